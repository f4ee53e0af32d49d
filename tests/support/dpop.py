"""DPoP for tests (RFC 9449 §4.2): a client key, a proof builder, token and bank calls.

    key = DPoPKey(lab)
    r = redeem(http, lab, key, code, verifier)                  # POST /token with a proof
    r = bank_get(http, lab, key, token, "/accounts")            # Authorization: DPoP + proof
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.oauth import tpp_credentials, tpp_redirect_uri

UNSET: Any = object()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ath(token: str) -> str:
    return b64url(hashlib.sha256(token.encode()).digest())


class DPoPKey:
    """A client's P-256 DPoP key; proofs are timed by the lab clock unless `iat` is given."""

    def __init__(self, lab: RunningLab | None = None) -> None:
        self.lab = lab
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        self.private_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.private))

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint, computed independently of lab.dpop_proof."""
        members = {k: self.public_jwk[k] for k in ("crv", "kty", "x", "y")}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def now(self) -> int:
        return clock.now_int(self.lab.store) if self.lab else clock.now_int()

    def proof(self, htm: str, htu: str, *, token: str | None = None, nonce: str | None = None,
              iat: Any = UNSET, jti: Any = UNSET, ath_value: Any = UNSET, typ: Any = "dpop+jwt",
              jwk: Any = UNSET, headers: dict[str, Any] | None = None,
              claims: dict[str, Any] | None = None) -> str:
        """A signed proof; any claim or header can be overridden, UNSET means the honest value
        and None leaves it out."""
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12) if jti is UNSET else jti, "htm": htm, "htu": htu,
            "iat": self.now() if iat is UNSET else iat,
        }
        if token is not None or ath_value is not UNSET:
            body["ath"] = ath(token or "") if ath_value is UNSET else ath_value
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims or {})
        head: dict[str, Any] = {"typ": typ, "jwk": self.public_jwk if jwk is UNSET else jwk}
        head.update(headers or {})
        body = {k: v for k, v in body.items() if v is not None}
        head = {k: v for k, v in head.items() if v is not None}
        return jwt.encode(body, self.private, algorithm="ES256", headers=head)


def token_url(lab: RunningLab) -> str:
    return lab.config.as_url + "/token"


def redeem(http: requests.Session, lab: RunningLab, key: DPoPKey | None, code: str,
           verifier: str | None, *, proof: str | None = None, cert: Any = None,
           client_auth: dict[str, str] | None = None, redirect_uri: str | None = None,
           **proof_args: Any) -> requests.Response:
    """POST /token as the TPP (client secret), with a proof from `key` unless `proof` is given.
    client_auth: form fields that authenticate the client instead of the TPP's secret, e.g.
    oauth.assertion_params(oauth.client_assertion(lab), "tpp") for private_key_jwt."""
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or tpp_redirect_uri(lab)}
    if verifier:
        data["code_verifier"] = verifier
    return _token_request(http, lab, key, data, proof, cert, client_auth, proof_args)


def refresh(http: requests.Session, lab: RunningLab, key: DPoPKey | None, refresh_token: str,
            *, proof: str | None = None, client_auth: dict[str, str] | None = None,
            **proof_args: Any) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(http, lab, key, data, proof, None, client_auth, proof_args)


def _token_request(http: requests.Session, lab: RunningLab, key: DPoPKey | None,
                   data: dict[str, str], proof: str | None, cert: Any,
                   client_auth: dict[str, str] | None,
                   proof_args: dict[str, Any]) -> requests.Response:
    headers = {}
    if proof is None and key is not None:
        proof = key.proof("POST", token_url(lab), **proof_args)
    if proof is not None:
        headers["DPoP"] = proof
    if client_auth is not None:
        return http.post(token_url(lab), data={**data, **client_auth}, headers=headers,
                         cert=cert)
    return http.post(token_url(lab), data=data, headers=headers, auth=tpp_credentials(lab),
                     cert=cert)


def tpp_assertion(lab: RunningLab) -> dict[str, str]:
    """Form fields authenticating the TPP with a fresh private_key_jwt assertion."""
    from tests.support.oauth import assertion_params, client_assertion

    return assertion_params(client_assertion(lab), "tpp")


def bank_url(lab: RunningLab, path: str) -> str:
    return lab.config.bank_url + path


def bank_get(http: requests.Session, lab: RunningLab, key: DPoPKey | None, token: str,
             path: str = "/accounts", *, scheme: str = "DPoP", proof: str | None = None,
             method: str = "GET", **proof_args: Any) -> requests.Response:
    """A bank request presenting `token` with a proof made for it (unless `proof` is given)."""
    url = bank_url(lab, path)
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is None and key is not None:
        proof = key.proof(method, url.split("?")[0], token=token, **proof_args)
    if proof is not None:
        headers["DPoP"] = proof
    return http.request(method, url, headers=headers)


def dpop_tokens(http: requests.Session, lab: RunningLab, key: DPoPKey,
                **proof_args: Any) -> dict[str, Any]:
    """A full code flow for the TPP, redeemed with a proof from `key`: the token response."""
    from tests.support.oauth import authorize

    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, **proof_args)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def challenge(response: requests.Response) -> str:
    return response.headers.get("WWW-Authenticate", "")
