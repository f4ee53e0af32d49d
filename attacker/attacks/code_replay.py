"""code-replay: FinLens's captured code redemption sent again, verbatim.

The A4 attacker reads the token leg after FinLens redeemed the victim's code: code,
code_verifier and the client authentication as sent (a secret in legacy, a client
assertion with private_key_jwt). Where the request carried a DPoP proof, it adds a
fresh one from its own key. RFC 6749 §4.1.2: a code used twice must be refused (and its
tokens revoked); OIDC §9: an assertion's jti is good once.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("token", where=ts.is_token_grant("authorization_code"))
    form = leaked.form()
    ctx.step("attacker", "reads FinLens's code redemption on the token leg (code, verifier, "
             "client authentication)")
    headers = {}
    basic = leaked.header("Authorization")
    if basic:
        headers["Authorization"] = basic
    signer = ctx.dpop_signer() if leaked.header("DPoP") else None
    response = ts.post_token(ctx, form, signer=signer, headers=headers,
                             what="POST /token: FinLens's code redemption, replayed"
                                  + (" with a proof from its own key" if signer else ""))
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the replayed code redemption")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"got a second token set for the victim's code and read {len(balances)} "
                  "balances", balances)


ATTACK = Attack(
    id="code-replay", attacker="A4", legs=("token",), victim="prior",
    title="Captured code redemption replayed",
    blocked_by=("code_single_use", "client_assertion_jti_single_use"),
    premise="Reads FinLens's token requests: the redeemed code, its verifier and the client "
            "authentication exactly as sent.",
    goal="a second token set for the victim's grant", run=run,
    refs=("RFC 6749 §4.1.2", "FAPI2 §5.3.2.2", "OIDC §9"),
    not_alone={"client_assertion_jti_single_use":
               "legacy FinLens authenticates with client_secret_post, so there is no assertion "
               "whose jti could be refused; with client_auth=private_key_jwt it blocks"},
)
