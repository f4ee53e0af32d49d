"""The victim at his own online banking: sign in, read "Connected apps", revoke one app.

Both victims offer it as victim.online_banking(): HttpVictim through this module's
OnlineBanking (its requests session), BrowserVictim through attacker.browser_bank (clicks
in Chromium). Both read the page with apps_of(), so an attack sees the same cards either
way. The newest card comes first (the bank lists newest first).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from .outcome import AttackSetupError

if TYPE_CHECKING:
    from .victim import HttpVictim

_HEAD = re.compile(r"<(head|style|script)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FIELDS = {"client_id": re.compile(r"client_id <code>([^<]*)</code>"),
           "scope": re.compile(r"scope <code>([^<]*)</code>"),
           "grant_id": re.compile(r'name="grant_id" value="([^"]*)"')}


def apps_of(page: str) -> list[dict[str, str]]:
    """One {client_id, scope, grant_id} per card of the "Connected apps" page, newest first."""
    cards = []
    for card in page.split('<div class="card">')[1:]:
        found = {name: pattern.search(card) for name, pattern in _FIELDS.items()}
        cards.append({k: html.unescape(m.group(1)) if m else "" for k, m in found.items()})
    return cards


def newest_of(apps: list[dict[str, str]], client_id: str) -> str:
    """The grant id of `client_id`'s newest card: the link the victim just made. Older
    cards of earlier runs stay (revoking them all made each run slower than the last)."""
    grant = next((a["grant_id"] for a in apps if a["client_id"] == client_id), "")
    if not grant:
        raise AttackSetupError(f"the victim found no {client_id} entry to revoke")
    return grant


def said(page: str, limit: int = 300) -> str:
    """What a page says, as one line of text: a bare status hid that the 502 a full matrix
    saw was the capture proxy's own answer ("Response body exceeds mitmproxy's
    body_size_limit."), not the bank's."""
    text = " ".join(html.unescape(_TAG.sub(" ", _HEAD.sub(" ", page))).split())
    return (text[:limit] + "…" if len(text) > limit else text) or "an empty page"


def csrf_of(page: str) -> str:
    match = _CSRF.search(page)
    if not match:
        raise AttackSetupError("the bank page has no CSRF token")
    return match.group(1)


class OnlineBanking:
    """The HTTP victim's online banking session (password + second factor, as he would)."""

    def __init__(self, victim: HttpVictim) -> None:
        self.victim, self.ctx = victim, victim.ctx
        self.bank = self.ctx.config.bank_url
        http = victim.http
        with victim.own():
            page = http.get(self.bank + "/login", timeout=30)
            step = http.post(self.bank + "/login", timeout=30, data={
                "username": victim.username, "password": victim.agent.password,
                "csrf_token": csrf_of(page.text)})
            done = http.post(self.bank + "/login/code", timeout=30, data={
                "code": victim.agent.second_factor(), "csrf_token": csrf_of(step.text)})
        if "Connected apps" not in done.text:
            raise AttackSetupError(f"the victim could not sign in to online banking: "
                                   f"{done.status_code} {done.url} ({said(done.text)})")
        self.ctx.step("victim", "signs in to his online banking", status=done.status_code)
        self._page = done.text

    def apps(self) -> list[dict[str, str]]:
        """Open "Connected apps" and read its cards."""
        with self.victim.own():
            response = self.victim.http.get(self.bank + "/connected-apps", timeout=30)
        self.ctx.step("victim", "opens \"Connected apps\" at his bank", url=response.url,
                      status=response.status_code)
        self._page = response.text
        return apps_of(response.text)

    def revoke(self, client_id: str) -> str:
        """Click "Revoke access" on `client_id`'s newest card; return its grant id."""
        with self.victim.own():
            grant = newest_of(self.apps(), client_id)
            done = self.victim.http.post(self.bank + "/connected-apps/revoke", timeout=30,
                                         data={"grant_id": grant,
                                               "csrf_token": csrf_of(self._page)})
        self.ctx.step("victim", f"revokes {client_id} (\"Revoke access\" on its newest card)",
                      status=done.status_code)
        if done.status_code >= 400:
            raise AttackSetupError(f"the bank did not revoke the grant: {done.status_code} "
                                   f"({said(done.text)})")
        return grant
