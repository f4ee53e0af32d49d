"""The scripted victim in a real browser: Debian's headless Chromium, driven by Playwright.

`fapi-lab attack ID --browser` (demo mode) and the browser tests use it in place of the fast
HttpVictim (attacker/victim.py), with the same interface and the same story steps: the
victim signs in to FinLens, clicks "Link HonestBank", signs in at the AS, passes SCA,
consents, and his browser — not a script reimplementing it — follows the redirects, runs
the legacy interstitial's and the fragment page's scripts, loads the partner pixel, and
renders the dashboard. Every request still passes the lab's front door, so capture records
the victim's legs and the response ids land in ctx.victim_request_ids.

attacker.browser_launch starts Chromium (BrowserVictimFactory); attacker.browser_tab
watches the page and reads the AS's authorization response before Chromium follows it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.tpp.driver import DashboardPage, parse_dashboard
from lab.useragent import HttpUserAgent

from .browser_as import AS_STEPS, AsPages, BrowserAuthorization
from .browser_bank import BankPages
from .browser_tab import POLL_MS, WAIT_MS, BrowserVictimError, PageVisit, Rewrite, origin
from .victim import VictimRefused

if TYPE_CHECKING:
    from .attack_context import AttackContext


@dataclass
class BrowserLinkResult:
    """How far the victim's "Link <bank>" went (attacker.victim.LinkResult's shape)."""

    authorization: BrowserAuthorization
    delivered: PageVisit | None = None

    @property
    def callback_url(self) -> str | None:
        return self.authorization.callback_url


class BrowserVictim(AsPages, BankPages):
    """One person at one browser (one Chromium context: its own cookies) at FinLens and the AS.

    options as for HttpVictim: tpp_user, and lab.useragent.HttpUserAgent's password,
    accounts, permissions, approve — what this person knows and chooses. `agent` holds them
    (its password and second_factor() are what he would type).
    """

    renders_pages = True    # Chromium loads a page's images and runs its scripts itself

    def __init__(self, ctx: AttackContext, username: str = "alice", *, context: Any,
                 tpp_user: str | None = None, shots: Path | None = None,
                 shot_numbers: itertools.count[int] | None = None,
                 **agent_options: Any) -> None:
        self.username = username
        self.tpp_user = tpp_user or f"{username}-{ctx.run_tag}"
        self.agent = HttpUserAgent.for_lab(ctx.config, ctx.store, username=username,
                                           **agent_options)
        self._tpp = origin(ctx.config.tpp_url)
        self._signed_in = False
        super().__init__(ctx, context=context, label=self.tpp_user, shots=shots,
                         shot_numbers=shot_numbers)

    @property
    def http(self) -> Any:
        """HttpVictim's requests session has no counterpart: the cookies live in Chromium."""
        raise BrowserVictimError("this attack drives the victim's HTTP session directly "
                                 "(victim.http); run it without --browser")

    @property
    def browser(self) -> Any:
        raise BrowserVictimError("this attack drives the victim's FinLens session directly "
                                 "(victim.browser); run it without --browser")

    # --- at FinLens ------------------------------------------------------------------------
    def sign_in(self) -> None:
        """FinLens's own login is out of the lab's scope: any username signs in."""
        with self.own():
            self._sign_in()

    def _sign_in(self) -> None:
        if self._signed_in:
            return
        self._goto(self._tpp + "/", "opens FinLens")
        if self.page.locator("#signin-username").count() == 0:
            raise BrowserVictimError(f"no FinLens sign-in form at {self.page.url}")
        self.page.fill("#signin-username", self.tpp_user)
        self._act(lambda: self.page.click("#signin-submit"), "signs in to FinLens")
        self._shot("finlens-signed-in")
        self.ctx.step("victim", f"signs in to FinLens as {self.tpp_user}",
                      status=self._status())
        if self._status_code() >= 400:
            raise VictimRefused(f"FinLens refused the sign-in: {self._status()}",
                                self._refusal())
        self._signed_in = True

    def sign_in_with_bank(self, institution: str = "honestbank") -> PageVisit:
        """"Sign in with <institution>" at FinLens: the bank's ID token says who he is. His
        browser clicks the button, goes through the AS's pages and runs the sign-in
        callback's page (the hybrid flow's fragment page posts its fragment by script)."""
        with self.own(institution):
            self._goto(self._tpp + "/", "opens FinLens")
            button = self.page.locator(f"[data-testid=signin-bank-{institution}]")
            if button.count() == 0:
                raise VictimRefused(f"FinLens could not start the sign-in: no {institution!r} "
                                    "button on its home page")
            self._begin(hold=False)
            try:
                delivered = self._sign_in_with_bank(institution, button)
            finally:
                self._end()
        self._signed_in = True
        return delivered

    def _sign_in_with_bank(self, institution: str, button: Any) -> PageVisit:
        mark = len(self._navigations)
        self._act(button.click, f"clicks \"Sign in with {institution}\"")
        url = next((u for u in self._navigations[mark:] if origin(u) == self._as),
                   self.page.url)
        self.ctx.step("victim", f"clicks \"Sign in with {institution}\" at FinLens", url=url)
        if origin(self.page.url) != self._as and self._leaving is None:
            raise VictimRefused(f"FinLens could not start the sign-in: {self._status()}",
                                self._refusal())
        self._through_as(None)
        self._authorization("the AS refused the victim's sign-in")
        self.ctx.step("victim", f"signs in at the bank as {self.username}")
        return self._back_at_finlens()

    def takes_session_as_his(self) -> None:
        """He sees FinLens signed in and goes on in that session (login CSRF's premise)."""
        self._signed_in = True

    def link(self, institution: str = "honestbank", *, stop: str | None = None,
             rewrite: Rewrite | None = None) -> BrowserLinkResult:
        """Click "Link <institution>", sign in at the AS, pass SCA, consent, come back.

        stop: "login"/"mfa"/"consent" pauses on that page (a slow victim); "response"
        closes the tab once the AS answered, so the code stays unredeemed (attacks.md §0).
        rewrite: an extension in his browser rewrites the authorization request on its way
        to the AS (attacker.browser_tab); the flow is then lured, never his own.
        """
        with self.own(institution, shaped=rewrite is not None):
            return self._link_from_finlens(institution, stop, rewrite)

    def _link_from_finlens(self, institution: str, stop: str | None,
                           rewrite: Rewrite | None) -> BrowserLinkResult:
        self.sign_in()
        self._goto(self._tpp + "/link", "opens \"Link accounts\"")
        button = self.page.locator(f"[data-testid=link-institution-{institution}]")
        if button.count() == 0:
            raise VictimRefused(f"FinLens could not start the link: no {institution!r} "
                                "on its \"Link accounts\" page")
        self._begin(hold=stop == "response", rewrite=rewrite)
        try:
            return self._link(institution, button, stop, rewrite is not None)
        finally:
            self._end()

    def _link(self, institution: str, button: Any, stop: str | None,
              rewritten: bool) -> BrowserLinkResult:
        mark = len(self._navigations)
        self._act(button.click, f"clicks \"Link {institution}\"")
        if self._rewritten:     # the extension's page sends the browser on to the AS
            self.page.wait_for_url(self._as + "/**")
            self.page.wait_for_load_state("domcontentloaded")
        url = next((u for u in self._navigations[mark:] if origin(u) == self._as),
                   self.page.url)
        self.ctx.step("victim", f"clicks \"Link {institution}\"", url=url)
        if origin(self.page.url) != self._as and self._leaving is None:
            raise VictimRefused(f"FinLens could not start the link: {self._status()}",
                                self._refusal())
        pause = stop if stop in AS_STEPS else None
        stopped = self._through_as(pause)
        if stopped:
            self.ctx.step("victim", f"pauses on the {stopped} page", url=self.page.url)
            return BrowserLinkResult(BrowserAuthorization(None, stopped_at=stopped))
        whose = "the rewritten" if rewritten else "the victim's"
        authorization = self._authorization(f"the AS refused {whose} authorization request")
        if stop == "response":
            self.ctx.step("victim", "closes the tab: the code is never delivered to FinLens",
                          url=authorization.callback_url)
            return BrowserLinkResult(authorization)
        self.ctx.step("victim", "is sent back to FinLens with the AS's authorization response",
                      url=authorization.callback_url)
        return BrowserLinkResult(authorization, self._back_at_finlens())

    def deliver(self, callback_url: str) -> PageVisit:
        """The browser opens FinLens's redirect endpoint (the legacy interstitial's script
        posts the response; the fragment page posts its fragment)."""
        self._goto(callback_url, "opens FinLens's callback", check=False)
        return self._back_at_finlens()

    def dashboard(self) -> DashboardPage:
        """Open the dashboard: FinLens calls the bank (the resource legs)."""
        with self.own():
            self._goto(self._tpp + "/dashboard", "opens the FinLens dashboard", check=False)
        self._shot("finlens-dashboard")
        self.ctx.step("victim", "opens the FinLens dashboard", url=self.page.url,
                      status=self._status())
        return parse_dashboard(self.page.content())

    def visit(self, url: str) -> PageVisit:
        """Follow a link (a lure): the browser opens it and follows where it leads."""
        self._goto(url, "follows a link", check=False)
        self._shot("visit")
        visit = self._visit()
        self.ctx.step("victim", "follows a link", url=url, status=visit.status_code)
        return visit

    def authorize(self, url: str, *, deliver: bool = True) -> BrowserAuthorization:
        """Follow a lure that leads to the AS, log in and consent; deliver the response
        (deliver=False: the browser never leaves the AS with it — a closed tab)."""
        self.sign_in()
        self._begin(hold=not deliver)
        try:
            return self._authorize(url, deliver)
        finally:
            self._end()

    def _authorize(self, url: str, deliver: bool) -> BrowserAuthorization:
        self._goto(url, "follows the link to the AS", check=False)
        if self._leaving is None and origin(self.page.url) != self._as:
            raise VictimRefused("the lure did not lead the victim's browser to the AS: "
                                f"{self._status()} at {self.page.url}", self._refusal())
        self._through_as(None)
        authorization = self._authorization("the AS refused the request the victim was "
                                            "lured into")
        self.ctx.step("victim", f"signs in as {self.username} and consents",
                      url=authorization.callback_url)
        if deliver:
            self._settle_auto_posts()
            self._shot("after-authorize")
            self.ctx.step("victim", "follows the AS's redirect",
                          url=self.page.url, status=self._status(),
                          error=self._failed)
        return authorization

    # --- back at FinLens -------------------------------------------------------------------
    def _back_at_finlens(self) -> PageVisit:
        self._settle_auto_posts()
        self._shot("finlens-back")
        visit = self._visit()
        if self._failed or (visit.status_code or 0) >= 400:
            raise VictimRefused(f"FinLens refused the authorization response: "
                                f"{self._failed or visit.status_code}", self._refusal())
        self.ctx.step("victim", "is back at FinLens", url=visit.url, status=visit.status_code)
        return visit

    def _settle_auto_posts(self) -> None:
        """Wait while the page is FinLens's interstitial (redeems by script after 1.5 s) or
        fragment page (posts the fragment at once): the browser runs them, we wait."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while self._auto_posting():
            if time.monotonic() > deadline:
                raise BrowserVictimError(f"FinLens's page did not move on: {self.page.url}")
            self.page.wait_for_timeout(POLL_MS * 4)
        self.page.wait_for_load_state("domcontentloaded")

    def _auto_posting(self) -> bool:
        if self._failed:
            return False
        try:
            if self.page.locator("[data-testid=redeem-form]").count():
                return True
            fragment = self.page.locator("[data-testid=fragment-page]")
            return bool(fragment.count()) and \
                self.page.locator("#nothing").get_attribute("hidden") is not None
        except Exception:   # the page navigated while we looked: still moving
            return True

