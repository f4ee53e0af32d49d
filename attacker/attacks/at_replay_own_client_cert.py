"""at-replay-own-client-cert: a certificate-bound token used over the attacker's own TLS.

The A5 attacker holds a captured token and its own lab-CA client certificate, not
FinLens's. The bank must compare the certificate of the TLS connection with the
token's cnf.x5t#S256 (RFC 8705 §3, §3.2; FAPI2 §5.3.2.1, §5.3.4; F1P2 §8.2).
"""

from __future__ import annotations

from attacker.context import AttackContext
from attacker.forge import accounts_url
from attacker.model import Attack
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_accounts_list)
    scheme, token = token_of(leaked)
    ctx.step("attacker", "copies the access token of FinLens's GET /accounts")
    http = ctx.mtls_http()
    headers = {"Authorization": f"{scheme} {token}"}
    listed = ctx.send("GET", ctx.url("bank", "/accounts"), headers=headers, http=http,
                      what="GET /accounts with the stolen token over TLS with its own "
                           "client certificate")
    if listed.status_code != 200:
        ctx.failed("the bank refused the stolen token on the attacker's TLS connection", listed)
    accounts = listed.json().get("accounts") or []
    if not accounts:
        ctx.failed("the stolen token listed no accounts", listed)
    balances = {}
    for account in accounts:
        account_id = account["account_id"]
        r = ctx.send("GET", accounts_url(ctx, account_id, "balances"), headers=headers,
                     http=http, what=f"GET /accounts/{account_id}/balances")
        if r.status_code == 200:
            balances[account_id] = r.json()
    if not balances:
        ctx.failed("the bank listed the accounts but served no balance", listed)
    ctx.succeeded(f"read the balances of {len(balances)} victim accounts over its own TLS",
                  balances)


ATTACK = Attack(
    id="at-replay-own-client-cert", attacker="A5", legs=("resource",), victim="prior",
    premise="Holds the access token of one captured resource request and its own lab-CA "
            "client certificate; not FinLens's certificate or key.",
    goal="the victim's balances", run=run, needs={"sender_constraint": "mtls"},
    refs=("RFC 8705 §3, §3.1, §3.2", "FAPI2 §5.3.2.1, §5.3.4", "F1P2 §5.2.2, §8.2, §8.3.4"),
)
