"""The whole linking a TPP does, once per task: authorization request, login with password and
TOTP, consent, code redemption, bank calls — each step its own row of statistics.

`flow` runs with par_required on: the request is pushed (RFC 9126 §2) and only
client_id + request_uri go through the browser. `flow-plain` runs with it off:
the same request goes in the front channel (RFC 6749 §4.1.1). Everything else
(PKCE S256, private_key_jwt, the profile's token binding and second factor) is
the same, so the two differ by PAR alone. The browser steps are lab.useragent's
scripted victim on Locust's session (loadtests/linking.py); the customers take
turns (alice, mallory), so no one customer's state is the bottleneck.
"""

from __future__ import annotations

from typing import Any

from locust import task

from loadtests import rotation  # noqa: F401  (--rotate-keys-after: its listeners)
from loadtests.common import SUMMARY_EXTRAS, Completions
from loadtests.linking import BANK_URL, LinkingUser

# Whole linkings, start to last bank answer (ms): the unit PAR's cost is compared in, since
# a PAR flow sends one request more than a plain one and its req/s would not compare.
LINKINGS = Completions()


class FlowUser(LinkingUser):
    @task
    def link(self) -> None:
        began = LINKINGS.start()
        token = self.tokens()
        if token is not None and self._bank(token["access_token"]):
            LINKINGS.done(began)

    def _bank(self, token: str) -> bool:
        accounts = self.bank("GET", BANK_URL + "/accounts", "/accounts", token)
        if not 200 <= accounts.status_code < 300:
            return False
        listed = accounts.json().get("accounts") or []
        if not listed:
            self.abort("/accounts", "no consented account listed")
            return False
        balances = self.bank("GET", f"{BANK_URL}/accounts/{listed[0]['account_id']}/balances",
                             "/accounts/{id}/balances", token)
        return 200 <= balances.status_code < 300


def linkings() -> dict[str, Any]:
    return LINKINGS.summary()


SUMMARY_EXTRAS["linkings"] = linkings
