"""Access tokens for bank tests, minted here (not by the AS) so the bank is tested on its own.

Genuine tokens are signed with the AS's private key from the data directory and
registered with a grant, exactly as the AS would; forged ones are built the way
the attacks in attacks.md §3 F build them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from lab import clock, keys
from lab.domain import consent, ledger
from lab.keys import public_jwks
from lab.serving.in_process import RunningLab

ALL_SCOPES = "openid accounts:read transactions:read payments:write"
ALL_PERMISSIONS = ["balances", "transactions", "payments"]


@dataclass(frozen=True)
class Minted:
    token: str
    jti: str
    grant_id: str | None
    claims: dict[str, Any]


def account(username: str, type_: str) -> str:
    return ledger.account_id(username, type_)


def default_accounts(username: str = "alice") -> dict[str, list[str]]:
    """What the scripted victim consents to: checking + savings, every permission."""
    return {account(username, "checking"): list(ALL_PERMISSIONS),
            account(username, "savings"): list(ALL_PERMISSIONS)}


def as_private_keys(lab: RunningLab) -> list[dict[str, Any]]:
    return keys.ensure_keyset(lab.config.keys_dir, "as")


def _private_key(jwk: dict[str, Any]) -> Any:
    algorithm = ECAlgorithm if jwk["kty"] == "EC" else RSAAlgorithm
    return algorithm.from_jwk(json.dumps(jwk))


def claims_for(lab: RunningLab, *, username: str = "alice", scope: str = ALL_SCOPES,
               grant_id: str | None = None, lifetime: int = 300,
               aud: str | list[str] | None = "bank", **extra: Any) -> dict[str, Any]:
    now = clock.now_int(lab.store)
    claims: dict[str, Any] = {
        "iss": lab.config.issuer, "sub": username, "client_id": "tpp-test", "scope": scope,
        "jti": "at-" + secrets.token_hex(8), "iat": now, "exp": now + lifetime,
        "auth_time": now,
    }
    if aud is not None:
        claims["aud"] = lab.config.bank_url if aud == "bank" else aud
    if grant_id:
        claims["grant_id"] = grant_id
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def mint(lab: RunningLab, *, username: str = "alice", scope: str = ALL_SCOPES,
         accounts: dict[str, list[str]] | None = None, grant: bool = True,
         register: bool = True, alg: str = "ES256", lifetime: int = 300,
         aud: str | list[str] | None = "bank", **extra: Any) -> Minted:
    """A genuine AS token: grant + token record in the consent store, signed by the AS key."""
    grant_id = None
    if grant:
        grant_id = consent.create_grant(
            lab.store, username=username, client_id="tpp-test", scope=scope,
            accounts=default_accounts(username) if accounts is None else accounts,
            auth_time=clock.now(lab.store))
    claims = claims_for(lab, username=username, scope=scope, grant_id=grant_id,
                        lifetime=lifetime, aud=aud, **extra)
    jwk = keys.signing_key(as_private_keys(lab), alg)
    token = jwt.encode(claims, _private_key(jwk), algorithm=alg,
                       headers={"typ": "at+jwt", "kid": jwk["kid"]})
    if register:
        audience = claims.get("aud")
        consent.record_access_token(
            lab.store, jti=claims["jti"], grant_id=grant_id, client_id="tpp-test",
            username=username, scope=scope,
            audience=audience if not isinstance(audience, list) else " ".join(audience),
            issued_at=claims["iat"], expires_at=claims.get("exp", claims["iat"] + lifetime))
    return Minted(token, claims.get("jti", ""), grant_id, claims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def forged_alg_none(claims: dict[str, Any]) -> str:
    """RFC 8725 §2.1: an unsigned token that a careless verifier takes at its word."""
    return _segments({"alg": "none", "typ": "at+jwt"}, claims) + "."


def published_as_key(lab: RunningLab, alg: str = "ES256") -> dict[str, Any]:
    """The public JWK anybody can fetch: what the attacker keys the HMAC with."""
    return next(k for k in public_jwks(as_private_keys(lab))["keys"] if k["alg"] == alg)


def forged_hs256_with_public_key(lab: RunningLab, claims: dict[str, Any]) -> str:
    """RFC 8725 §2.1: HS256 keyed with the AS's published public key (PEM), AS kid."""
    jwk = published_as_key(lab)
    pem = ECAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = _segments({"alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"]}, claims)
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(mac)


def forged_embedded_jwk(claims: dict[str, Any]) -> str:
    """ES256 by the attacker's own key, which the token carries in its jwk header."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return jwt.encode(claims, key, algorithm="ES256",
                      headers={"typ": "at+jwt", "kid": "attacker-key", "jwk": public})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def www_authenticate(response: requests.Response) -> str:
    return response.headers.get("WWW-Authenticate", "")


def ensure_bank_knows_as_keys(lab: RunningLab) -> str:
    """The bank discovers the AS's JWKS itself; while the AS serves no discovery (it is built
    separately), give the bank the same public keys directly. Returns which path is in use."""
    from lab.jose.jws import JwksSource

    url = lab.config.issuer + "/.well-known/openid-configuration"
    try:
        ok = requests.get(url, verify=str(lab.config.ca_cert_path), timeout=5).ok
    except requests.RequestException:
        ok = False
    if ok:
        return "discovery"
    protector = lab.apps["bank"].extensions["bank_protector"]
    jwks = public_jwks(as_private_keys(lab))
    protector.keys.source = JwksSource("test:as-jwks", str(lab.config.ca_cert_path),
                                       fetch=lambda: jwks)
    return "pinned-for-tests"
