"""The TPP insider (MT, attacks.md §1): all FinLens holds — tokens, credentials, keys, DB.

Only attacks whose premise is the TPP store (attacker type MT, or an explicit grant)
may use this module; it reads FinLens's table and key files the way somebody with a
copy of its disk would, never through FinLens's code.
"""

from __future__ import annotations

import json
from typing import Any

import jwt

from lab import clock, keys, pki
from lab.tpp import assertion
from lab.tpp import dpop_signer as tpp_dpop

from .attack_context import AttackContext
from .outcome import AttackSetupError, PremiseViolation
from .victim import HttpVictim

TPP_KEY_FILES_PREFIX = "tpp-dpop"


def _allowed(ctx: AttackContext) -> None:
    if "store" not in ctx.attack.legs and "tpp_store" not in ctx.attack.grants:
        raise PremiseViolation(f"{ctx.attack.id}: only the TPP insider reads FinLens's store")


def link_of(ctx: AttackContext, victim: HttpVictim) -> dict[str, Any]:
    """The victim's newest FinLens link row: access and refresh tokens, scope, institution."""
    _allowed(ctx)
    row = ctx.store.query_one(
        "SELECT l.* FROM tpp_links l JOIN tpp_users u ON u.id = l.user_id "
        "WHERE u.username = ? ORDER BY l.created_at DESC LIMIT 1", (victim.tpp_user,))
    if row is None:
        raise AttackSetupError("FinLens holds no link for the victim")
    ctx.step("attacker", "copies the victim's tokens out of FinLens's database")
    return row


def payment_of(ctx: AttackContext, victim: HttpVictim) -> dict[str, Any]:
    """The victim's newest FinLens payment row: the payment consent's access token."""
    _allowed(ctx)
    row = ctx.store.query_one(
        "SELECT p.* FROM tpp_payments p JOIN tpp_users u ON u.id = p.user_id "
        "WHERE u.username = ? AND p.access_token IS NOT NULL ORDER BY p.created_at DESC "
        "LIMIT 1", (victim.tpp_user,))
    if row is None:
        raise AttackSetupError("FinLens holds no payment for the victim")
    ctx.step("attacker", "copies the payment consent's token out of FinLens's database")
    return row


def dpop_signer_for(ctx: AttackContext, access_token: str) -> tpp_dpop.Signer:
    """FinLens's DPoP key that the token is bound to (cnf.jkt), from its key files."""
    _allowed(ctx)
    claims = jwt.decode(access_token, options={"verify_signature": False})
    jkt = (claims.get("cnf") or {}).get("jkt")
    for path in sorted(ctx.config.keys_dir.glob(f"{TPP_KEY_FILES_PREFIX}*.jwks.json")):
        for key in json.loads(path.read_text())["keys"]:
            signer = tpp_dpop.Signer(key, now=lambda: clock.now_int(ctx.store))
            if jkt is None or signer.jkt == jkt:
                return signer
    raise AttackSetupError("none of FinLens's DPoP keys matches the token's cnf.jkt")


def assertion_signer(ctx: AttackContext, now: int) -> tuple[str, assertion.Signer]:
    """(client_id, a signer of FinLens's private_key_jwt assertions dated `now`), its key
    read from FinLens's key files."""
    _allowed(ctx)
    creds = json.loads((ctx.config.data_dir / "secrets" / "tpp-client.json").read_text())
    key = keys.signing_key(keys.ensure_keyset(ctx.config.keys_dir, "tpp"), "ES256")
    return creds["client_id"], assertion.Signer(creds["client_id"], key, "ES256",
                                                now=lambda: now)


def client_auth(ctx: AttackContext, method: str) -> dict[str, Any]:
    """Requests kwargs authenticating as FinLens: its secret, its assertion key, its cert.

    method: client_secret_post, client_secret_basic, private_key_jwt or tls_client_auth.
    """
    _allowed(ctx)
    creds = json.loads((ctx.config.data_dir / "secrets" / "tpp-client.json").read_text())
    client_id, secret = creds["client_id"], creds.get("client_secret", "")
    if method == "client_secret_basic":
        return {"data": {}, "auth": (client_id, secret)}
    if method == "client_secret_post":
        return {"data": {"client_id": client_id, "client_secret": secret}}
    if method == "tls_client_auth":
        pair = pki.client_cert(ctx.config.pki_dir, "tpp")
        return {"data": {"client_id": client_id}, "cert": (str(pair.cert), str(pair.key))}
    key = keys.signing_key(keys.ensure_keyset(ctx.config.keys_dir, "tpp"), "ES256")
    signed = assertion.Signer(client_id, key, "ES256", now=lambda: clock.now_int(ctx.store))
    return {"data": {"client_id": client_id,
                     "client_assertion_type":
                         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                     "client_assertion": signed.make(ctx.config.issuer)}}
