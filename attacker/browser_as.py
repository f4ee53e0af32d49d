"""The victim's browser on the AS's own pages: sign-in, second factor, consent.

BrowserVictim (attacker.browser_victim) acts here between clicking "Link" at FinLens and
coming back; what it reads at the end is the AS's authorization response, the redirect
that leaves the AS's origin (attacker.browser_tab spots it before Chromium follows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.domain import ledger
from lab.useragent import AuthorizationAnswer, HttpUserAgent, callback_params

from .browser_tab import BrowserTab, BrowserVictimError, origin
from .victim import VictimRefused

MAX_AS_STEPS = 8            # login, mfa, consent, and a few retries at most
AS_STEPS = ("login", "mfa", "consent")


@dataclass
class BrowserAuthorization(AuthorizationAnswer):
    """The AS's answer as the victim's browser saw it (lab.useragent.AuthorizationResult's
    fields that attacks read): where the AS sent the browser, and that URL's parameters."""

    callback_url: str | None
    params: dict[str, str] = field(default_factory=dict)
    stopped_at: str | None = None
    status: int | None = None


class AsPages(BrowserTab):
    """What the victim does on the AS's pages (his username, and what `agent` knows)."""

    username: str
    agent: HttpUserAgent

    # --- at the AS -------------------------------------------------------------------------
    def _through_as(self, stop: str | None) -> str | None:
        """Act on the AS's pages until the browser leaves the AS (or reaches `stop`)."""
        last: str | None = None
        for _ in range(MAX_AS_STEPS):
            if self._leaving is not None:
                return None
            if origin(self.page.url) != self._as:
                return None   # left without a redirect we saw: _authorization() refuses
            form = self.page.locator("form[data-step]")
            step = form.first.get_attribute("data-step") if form.count() else None
            if step is None or step not in AS_STEPS:
                self._shot("as-refused")
                return None
            self._shot(f"as-{step}")
            if step == stop:
                return step
            message = self.page.locator("main .error")
            if step == last and message.count():
                raise VictimRefused(f"the AS did not accept the victim's {step}: "
                                    f"{message.first.inner_text().strip()}", self._refusal())
            getattr(self, f"_fill_{step}")()
            last = step
        raise BrowserVictimError(f"the AS flow did not finish (still at {self.page.url})")

    def _fill_login(self) -> None:
        self.page.fill("#username", self.username)
        self.page.fill("#password", self.agent.password)
        self._act(lambda: self.page.click("form[data-step=login] button[type=submit]"),
                  "signs in at the AS")
        self.ctx.step("victim", f"signs in at the AS as {self.username}",
                      url=self.page.url, status=self._status())

    def _fill_mfa(self) -> None:
        code = self.agent.second_factor()   # his authenticator app, or his phone's SMS
        self.page.fill("#code", code)
        self._act(lambda: self.page.click("form[data-step=mfa] button[value=verify]"),
                  "enters the second factor")
        self.ctx.step("victim", "enters his one-time code (SCA)", url=self.page.url,
                      status=self._status())

    def _fill_consent(self) -> None:
        if not self.agent.approve:
            self._act(lambda: self.page.click("form[data-step=consent] button[value=deny]"),
                      "denies")
            self.ctx.step("victim", "denies the request on the consent page")
            return
        wanted = {str(a["id"]): str(a["type"])
                  for a in ledger.accounts_of(self.ctx.store, self.username)
                  if a["type"] in self.agent.accounts}
        ticked = []
        for box in self.page.locator("form[data-step=consent] input[name=account]").all():
            value = box.get_attribute("value") or ""
            box.set_checked(value in wanted)
            if value in wanted:
                ticked.append(wanted[value])
        for box in self.page.locator("form[data-step=consent] input[name^='perm:']").all():
            account = (box.get_attribute("name") or "")[5:]
            permission = box.get_attribute("value") or ""
            box.set_checked(account in wanted and (self.agent.permissions is None
                                                   or permission in self.agent.permissions))
        # "this changes the access it already has": ticked only by a person amending
        for box in self.page.locator("form[data-step=consent] input[name=replaces]").all():
            box.set_checked(self.agent.amend)
        self._shot("as-consent-ticked")
        self._act(lambda: self.page.click("form[data-step=consent] button[value=approve]"),
                  "approves")
        self.ctx.step("victim", f"shares {' + '.join(ticked) or 'nothing'} and approves")

    def _authorization(self, refusal: str) -> BrowserAuthorization:
        """The authorization response the browser got, or VictimRefused (an error page, or
        an error redirect)."""
        leaving = self._leaving
        if leaving is None:
            raise VictimRefused(f"{refusal}: {self._error_shown()}", self._refusal())
        params = callback_params(leaving.url)
        authorization = BrowserAuthorization(leaving.url, params, status=leaving.status)
        if authorization.error:
            raise VictimRefused(f"{refusal}: {authorization.error}",
                                {"status": leaving.status, "url": leaving.from_url,
                                 "request_id": leaving.request_id, "location": leaving.url,
                                 "body": ""})
        return authorization

    def _error_shown(self) -> str | int | None:
        """The OAuth error code on the AS's error page (lab.web.errors' page shows it in
        its box; the HTTP victim reads the same code from the JSON it asks for)."""
        try:
            shown = self.page.locator("div.box code")
            return shown.first.inner_text().strip() if shown.count() else self._status()
        except Exception:   # the page moved on while we read it
            return self._status()
