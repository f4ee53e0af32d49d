"""code-redeem-other-dpop-key: a leaked code redeemed with another DPoP key than dpop_jkt's.

MT: a FinLens insider copies what FinLens keeps on disk (its client-authentication key or
secret, its front end's request log) but not its DPoP keys, which FinLens holds where they
cannot be copied. A victim's flow stops after the AS answered (the tab was closed), so the
code was never redeemed. The insider reads the code in the authorization response, the
flow's code_verifier in FinLens's session cookie (signed, not encrypted, and logged on the
tpp_ui leg), authenticates as FinLens and redeems the code with a DPoP proof of its own key.
PKCE, client authentication and the code's client all match: only the key the authorization
request named (dpop_jkt, or the proof at PAR) is different. RFC 9449 §10: the AS "MUST
ensure that the dpop_jkt value matches the JWK Thumbprint of the public key in the DPoP
proof"; §10.1: a proof at PAR binds the code the same way. This is the conformance suite's
negative test of the code-to-key binding.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from attacker import insider
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.capture_view import Leaked
from attacker.outcome import AttackSetupError
from attacker.premises import interrupted_victim
from lab.tpp import settings as tpp_settings

SESSION_COOKIE = "fapi_lab_tpp"  # lab/web/app_base.py: fapi_lab_<component>
MAX_COOKIE = 16384


def session_of(value: str) -> dict[str, Any]:
    """A Flask session cookie's contents: payload.timestamp.signature, base64url JSON, zlib
    when it starts with "." (itsdangerous). Signing keeps it from being changed, not read."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if compressed:
            data = zlib.decompressobj().decompress(data, MAX_COOKIE)
        session = json.loads(data)
    except (ValueError, binascii.Error, zlib.error):
        return {}
    return session if isinstance(session, dict) else {}


def _cookies(leaked: Leaked) -> list[str]:
    values = []
    for name, header in leaked.response_headers:
        if name.lower() == "set-cookie" and header.startswith(SESSION_COOKIE + "="):
            values.append(header.split(";", 1)[0].split("=", 1)[1].strip('"'))
    return values


def verifier_of(ctx: AttackContext, state: str) -> str | None:
    """The code_verifier of FinLens's pending flow with this state, from its logged cookies."""
    for leaked in reversed(ctx.capture.all("tpp_ui")):
        for value in _cookies(leaked):
            for flow in session_of(value).get("flows") or []:
                if isinstance(flow, dict) and flow.get("state") == state:
                    verifier = flow.get("code_verifier")
                    return verifier if isinstance(verifier, str) else None
    raise AttackSetupError("no FinLens session cookie on the tpp_ui leg holds the flow")


def run(ctx: AttackContext) -> None:
    interrupted_victim(ctx)
    params = ctx.capture.last("authz_response",
                              where=lambda x: "code" in x.location_params()).location_params()
    code, state = params["code"], params.get("state", "")
    ctx.step("attacker", "reads the unredeemed code and its state in the AS's redirect to "
             "FinLens (authz_response leg)")
    verifier = verifier_of(ctx, state)
    ctx.step("attacker", "reads that flow's code_verifier in FinLens's session cookie, logged "
             "by FinLens's front end (tpp_ui leg)")
    meta = ts.metadata(ctx)
    chosen = tpp_settings.effective(ctx.store, meta)
    http = ctx.http
    if chosen.uses_mtls:
        http = ctx.new_http(cert=insider.client_auth(ctx, "tls_client_auth")["cert"])

    def renew() -> tuple[dict[str, str], Any]:
        auth = insider.client_auth(ctx, chosen.client_auth)
        return dict(auth["data"]), auth.get("auth")

    signer = ctx.dpop_signer() if ts.dpop_required(meta) else None
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": ctx.url("tpp", "/callback"),
            **({"code_verifier": verifier} if verifier else {})}
    response = ts.post_token(ctx, form, signer=signer, http=http, renew=renew,
                             what=f"POST /token as FinLens ({chosen.client_auth}) with the "
                                  "code, its verifier and a DPoP proof of the insider's own key")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused to redeem the code")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    bound = "tokens bound to its own DPoP key" if tokens.token_type.lower() == "dpop" \
        else "bearer tokens"
    ctx.succeeded(f"redeemed the victim's code with its own key ({bound}) and read "
                  f"{len(balances)} balances", balances)


ATTACK = Attack(
    id="code-redeem-other-dpop-key", attacker="MT", legs=("authz_response", "tpp_ui", "store"),
    victim="prior",
    title="Leaked code redeemed with another DPoP key than the one the request named",
    blocked_by=("dpop_jkt_binding",),
    premise="A FinLens insider with a copy of FinLens's disk (its client key or secret, its "
            "front end's request log with the session cookies) but not its DPoP keys, which "
            "cannot be copied; a victim flow was interrupted before FinLens redeemed the code.",
    goal="the victim's balances with tokens bound to the insider's own key", run=run,
    needs={"sender_constraint": "dpop"},
    refs=("RFC 9449 §10, §10.1", "FAPI2 §5.3.2.1", "RFC 7636 §4.6"),
)
