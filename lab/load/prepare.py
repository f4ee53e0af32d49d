"""Token material for the Locust workloads, obtained from the running lab as the TPP would.

For each workload: PAR with private_key_jwt (and a DPoP proof or the TLS client
certificate where the workload binds its token), the scripted victim's login,
second factor and consent (lab.useragent), then the code redeemed at /token.
What comes out is a JSON-able dict the Locust process reads (loadtests/common.py).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from lab import clock, context, keys, pki
from lab.config import LabConfig
from lab.store.base import Store
from lab.tpp import assertion, dpop, keyring, session
from lab.tpp.institutions import DEFAULT_ID
from lab.useragent import HttpUserAgent

SCOPE = "openid accounts:read transactions:read offline_access"
ASSERTION_ALG = "ES256"


class PrepareError(RuntimeError):
    """The lab refused to hand out the tokens a workload needs."""


def _dpop_jwk(config: LabConfig) -> dict[str, Any]:
    return keys.signing_key(keys.ensure_keyset(
        config.keys_dir, keyring.SHARED_DPOP_OWNER, ("ES256",)), "ES256")


def _home_certificate(config: LabConfig) -> tuple[str, str]:
    pair = pki.client_cert(config.pki_dir, keyring.HOME_CERTIFICATE)
    return str(pair.cert), str(pair.key)


class TppClient:
    """Just enough of the TPP's back channel for a load test: PAR, token, refresh."""

    def __init__(self, config: LabConfig, store: Store, binding: str) -> None:
        self.config, self.store, self.binding = config, store, binding
        self.client_id = session.credentials(config).client_id
        self.redirect_uri = config.tpp_url + "/callback"
        self.assertion_jwk = keyring.assertion_key(config, ASSERTION_ALG)
        self.dpop_jwk = _dpop_jwk(config) if binding == "dpop" else None
        self.signer = dpop.Signer(self.dpop_jwk) if self.dpop_jwk else None
        self.cert = _home_certificate(config) if binding == "mtls" else None
        self.http = requests.Session()
        self.http.verify = str(config.ca_cert_path)
        self.http.trust_env = False

    def _post(self, url: str, data: dict[str, str]) -> requests.Response:
        def do(extra: dict[str, str]) -> requests.Response:
            # A fresh client assertion per attempt: its jti is single-use at the AS.
            auth = {"client_id": self.client_id,
                    "client_assertion_type": assertion.ASSERTION_TYPE,
                    "client_assertion": assertion.make(self.client_id, self.assertion_jwk,
                                                       ASSERTION_ALG, self.config.issuer)}
            return self.http.post(url, data={**data, **auth}, headers=extra, cert=self.cert,
                                  timeout=30)

        with context.bound(self.store, "tpp"):   # proofs and assertions in lab time
            return dpop.send(do, self.signer, "POST", url) if self.signer else do({})

    def tokens(self, username: str = "alice") -> dict[str, Any]:
        """One whole linking: PAR, login + SCA + consent, code redemption."""
        verifier = secrets.token_urlsafe(48)
        r = self._post(self.config.as_url + "/par", {
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": SCOPE,
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256"})
        if r.status_code not in (200, 201):
            raise PrepareError(f"PAR refused: HTTP {r.status_code} {r.text[:200]}")
        url = (f"{self.config.as_url}/authorize?client_id={self.client_id}"
               f"&request_uri={quote(r.json()['request_uri'], safe='')}")
        result = HttpUserAgent.for_lab(self.config, self.store, username=username).authorize(url)
        if not result.code:
            raise PrepareError(f"no authorization code: {result.params}")
        r = self._post(self.config.as_url + "/token", {
            "grant_type": "authorization_code", "code": result.code,
            "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        if r.status_code != 200:
            raise PrepareError(f"token request refused: HTTP {r.status_code} {r.text[:200]}")
        body: dict[str, Any] = r.json()
        return body


def material(config: LabConfig, store: Store, workload: str, users: int) -> dict[str, Any]:
    """What loadtests/<workload>.py needs: URLs, trust, keys, and tokens made just now."""
    binding = {"bearer": "none", "dpop": "dpop", "mtls": "mtls", "refresh": "dpop"}[workload]
    client = TppClient(config, store, binding)
    out: dict[str, Any] = {
        "workload": workload, "as_url": config.as_url, "bank_url": config.bank_url,
        "issuer": config.issuer, "ca_cert": str(config.ca_cert_path),
        "clock_offset": clock.offset(store), "client_id": client.client_id,
        "dpop_jwk": client.dpop_jwk, "client_cert": list(client.cert) if client.cert else None,
        "assertion_jwk": client.assertion_jwk, "assertion_alg": ASSERTION_ALG,
        "institution": DEFAULT_ID,
    }
    if workload == "refresh":
        # Refresh tokens may rotate: every simulated user walks its own chain.
        out["refresh_tokens"] = [client.tokens()["refresh_token"] for _ in range(users)]
    else:
        out["access_token"] = client.tokens()["access_token"]
    return out
