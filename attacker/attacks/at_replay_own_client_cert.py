"""at-replay-own-client-cert: a certificate-bound token used over the attacker's own TLS.

The A5 attacker holds a captured token and its own lab-CA client certificate, not
FinLens's. The bank must compare the certificate of the TLS connection with the
token's cnf.x5t#S256 (RFC 8705 §3, §3.2; FAPI2 §5.3.2.1, §5.3.4; F1P2 §8.2).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import balances_with
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_accounts_list)
    scheme, token = token_of(leaked)
    ctx.step("attacker", "copies the access token of FinLens's GET /accounts")
    http = ctx.mtls_http()
    headers = {"Authorization": f"{scheme} {token}"}
    balances = balances_with(
        ctx, lambda url, what: ctx.send("GET", url, headers=headers, http=http, what=what),
        listing="GET /accounts with the stolen token over TLS with its own client certificate",
        refused="the bank refused the stolen token on the attacker's TLS connection")
    ctx.succeeded(f"read the balances of {len(balances)} victim accounts over its own TLS",
                  balances)


ATTACK = Attack(
    id="at-replay-own-client-cert", attacker="A5", legs=("resource",), victim="prior",
    title="Certificate-bound token used over the attacker's TLS",
    blocked_by=("mtls_bound_tokens",),
    premise="Holds the access token of one captured resource request and its own lab-CA "
            "client certificate; not FinLens's certificate or key.",
    goal="the victim's balances", run=run, needs={"sender_constraint": "mtls"},
    refs=("RFC 8705 §3, §3.1, §3.2", "FAPI2 §5.3.2.1, §5.3.4", "F1P2 §5.2.2, §8.2, §8.3.4"),
    also_blocked_by={
        "token_usage_monitoring":
            "the token's family is now used with another client certificate (the attacker's "
            "own): the monitor revokes the family and refuses that call (measured)",
    },
)
