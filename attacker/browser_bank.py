"""The victim's browser at his own online banking: sign in, "Connected apps", "Revoke access".

BrowserVictim.online_banking() is attacker.victim.HttpVictim.online_banking()'s
counterpart: the same cards (attacker.online_banking.apps_of reads the page Chromium
rendered) and the same revocation, done by typing and clicking in the bank's pages.
"""

from __future__ import annotations

from lab.useragent import HttpUserAgent

from .browser_tab import BrowserTab
from .online_banking import apps_of, newest_of
from .outcome import AttackSetupError


class BankPages(BrowserTab):
    """What the victim does at HonestBank's online banking (his username and `agent`'s
    password and second factor, as on the AS's pages)."""

    username: str
    agent: HttpUserAgent

    def online_banking(self) -> BrowserOnlineBanking:
        """Sign in to his online banking (password + second factor), in this browser."""
        bank = self.ctx.config.bank_url
        with self.own():
            self._goto(bank + "/login", "opens his online banking")
            self.page.fill("#username", self.username)
            self.page.fill("#password", self.agent.password)
            self._act(lambda: self.page.click("main form button[type=submit]"),
                      "signs in to online banking")
            self.page.fill("#code", self.agent.second_factor())
            self._act(lambda: self.page.click("main form button[type=submit]"),
                      "enters his second factor at the bank")
            self._shot("bank-signed-in")
            if not self.page.url.startswith(bank + "/connected-apps"):
                raise AttackSetupError(f"the victim could not sign in to online banking: "
                                       f"{self._status()} at {self.page.url}")
        self.ctx.step("victim", "signs in to his online banking", url=self.page.url,
                      status=self._status())
        return BrowserOnlineBanking(self)

    def connected_apps(self) -> list[dict[str, str]]:
        """Open "Connected apps" and read its cards."""
        with self.own():
            self._goto(self.ctx.config.bank_url + "/connected-apps",
                       "opens \"Connected apps\" at his bank")
        self._shot("bank-connected-apps")
        self.ctx.step("victim", "opens \"Connected apps\" at his bank", url=self.page.url,
                      status=self._status())
        return apps_of(self.page.content())

    def revoke_app(self, client_id: str) -> str:
        """Click "Revoke access" on `client_id`'s newest card; return its grant id."""
        with self.own():
            grant = newest_of(self.connected_apps(), client_id)
            button = self.page.locator(f"form:has(input[name=grant_id][value='{grant}']) "
                                       "button")
            self._act(button.click, "clicks \"Revoke access\"")
        self._shot("bank-revoked")
        self.ctx.step("victim", f"revokes {client_id} (\"Revoke access\" on its newest card)",
                      url=self.page.url, status=self._status())
        if self._status_code() >= 400:
            raise AttackSetupError(f"the bank did not revoke the grant: {self._status()}")
        return grant


class BrowserOnlineBanking:
    """attacker.online_banking.OnlineBanking's interface over the browser's pages."""

    def __init__(self, victim: BankPages) -> None:
        self.victim = victim

    def apps(self) -> list[dict[str, str]]:
        return self.victim.connected_apps()

    def revoke(self, client_id: str) -> str:
        return self.victim.revoke_app(client_id)
