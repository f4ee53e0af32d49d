"""Token material for the Locust workloads, obtained from the running lab as the TPP would.

For the bank and refresh workloads: PAR with private_key_jwt (and a DPoP proof or
the TLS client certificate where the workload binds its token), the scripted
victim's login, second factor and consent (lab.useragent), then the code redeemed
at /token. For the linking flows: what the AS's metadata asks of a client. For
the token workloads: a client of their own, registered by RFC 7591 dynamic
registration and deleted afterwards (RFC 7592). What comes out is a JSON-able
dict the Locust process reads (loadtests/common.py).
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any
from urllib.parse import quote

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from lab import clock, context, keys, pki
from lab.config import LabConfig
from lab.domain import customers, ledger
from lab.store.base import Store
from lab.tpp import assertion, keyring, pay, session
from lab.tpp import dpop_signer as tpp_dpop
from lab.tpp.institutions import DEFAULT_ID
from lab.useragent import HttpUserAgent

from .workloads import PAYMENT_KINDS

SCOPE = "openid accounts:read transactions:read offline_access"
# A linked grant FinLens may pay on (lab/tpp/client.py PAYMENT_SCOPE, with payments on).
PAYMENT_SCOPE = "openid accounts:read payments:write offline_access"
# The issue's "three days later": the linked grants' sign-in is this old when the payment
# workloads start; a step-up payment then meets the bank's max_age (default 300 s).
SIGN_IN_AGE = 3 * 24 * 3600
ASSERTION_ALG = "ES256"
# The token workloads' own clients: no end user, so a scope that needs none.
CLIENT_SCOPE = "accounts:read"
LOAD_CLIENT_KEYS = "load-client"
TOKEN_CLIENT_AUTH = {"token": "private_key_jwt", "token-secret": "client_secret_post"}


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
        self.signer = tpp_dpop.Signer(self.dpop_jwk) if self.dpop_jwk else None
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
            return tpp_dpop.send(do, self.signer, "POST", url) if self.signer else do({})

    def tokens(self, username: str = "alice", scope: str = SCOPE) -> dict[str, Any]:
        """One whole linking: PAR, login + SCA + consent, code redemption."""
        verifier = secrets.token_urlsafe(48)
        r = self._post(self.config.as_url + "/par", {
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": scope,
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


def metadata(config: LabConfig) -> dict[str, Any]:
    """The AS's discovery document (RFC 8414 §3), read as a client reads it."""
    r = _http(config).get(config.as_url + "/.well-known/oauth-authorization-server", timeout=30)
    if r.status_code != 200:
        raise PrepareError(f"no discovery metadata: HTTP {r.status_code}")
    body: dict[str, Any] = r.json()
    return body


def client_choices(meta: dict[str, Any]) -> dict[str, Any]:
    """What the linking flows and token workloads do at this AS, adapting to its metadata as
    FinLens does: PAR when it is required, and the token binding the AS does."""
    # RFC 9126 §5: require_pushed_authorization_requests — only PAR is accepted.
    par = meta.get("require_pushed_authorization_requests") is True
    # RFC 9449 §5.1 and RFC 8705 §3.3: the AS says which binding it does; DPoP first (FAPI 2.0
    # FinLens's own choice), mTLS when only that is on, otherwise a bearer token.
    if "ES256" in (meta.get("dpop_signing_alg_values_supported") or []):
        binding = "dpop"
    elif meta.get("tls_client_certificate_bound_access_tokens") is True:
        binding = "mtls"
    else:
        binding = "none"
    return {"par": par, "binding": binding}


def flow_customers() -> list[dict[str, str | None]]:
    """The demo customers with an authenticator app, whose logins need nobody's phone."""
    return [{"username": u.username, "password": u.password, "totp_secret": u.totp_secret}
            for u in customers.DEMO_USERS if u.second_factor == "totp"]


def _http(config: LabConfig) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.verify = str(config.ca_cert_path)
    return http


def register_client(config: LabConfig, client_auth: str) -> dict[str, Any]:
    """A client credentials client of the load test's own (RFC 7591 §3.1), so the workload
    changes nothing about FinLens's registration. Its private JWK, for private_key_jwt,
    stays in the data directory's keys like the TPP's."""
    body: dict[str, Any] = {"client_name": f"fapi-lab load ({client_auth})",
                            "grant_types": ["client_credentials"], "scope": CLIENT_SCOPE,
                            "token_endpoint_auth_method": client_auth}
    private = None
    if client_auth == "private_key_jwt":
        private = keys.ensure_keyset(config.keys_dir, LOAD_CLIENT_KEYS, (ASSERTION_ALG,))
        body["jwks"] = keys.public_jwks(private)
    r = _http(config).post(config.as_url + "/register", json=body, timeout=30)
    if r.status_code != 201:
        raise PrepareError(f"client registration refused: HTTP {r.status_code} {r.text[:200]}")
    info: dict[str, Any] = r.json()
    return {"client_id": info["client_id"], "client_auth": client_auth,
            "client_secret": info.get("client_secret") if private is None else None,
            "assertion_jwk": keys.signing_key(private, ASSERTION_ALG) if private else None,
            "registration": {"uri": info.get("registration_client_uri"),
                             "token": info.get("registration_access_token")}}


def release(config: LabConfig, material: dict[str, Any]) -> None:
    """RFC 7592 §2.3: delete the client a token workload registered (best effort)."""
    registration = material.get("registration") or {}
    if registration.get("uri") and registration.get("token"):
        # A leftover registration harms nothing; the next `fapi-lab reset` clears it.
        with contextlib.suppress(requests.RequestException):
            _http(config).delete(registration["uri"], timeout=30, headers={
                "Authorization": f"Bearer {registration['token']}"})


def material(config: LabConfig, store: Store, workload: str, users: int,
             rotation: dict[str, Any] | None = None) -> dict[str, Any]:
    """What loadtests/<workload>.py needs: URLs, trust, keys, and tokens made just now.

    `rotation` (--rotate-keys-after: when, the admin API, the kid signing now) goes to
    loadtests/rotation.py; a bank workload's also gets the refresh token that turns its
    access token into one signed by the new key once that key signs."""
    meta = metadata(config) if workload.startswith(("flow", "token", "payment")) else {}
    if workload in TOKEN_CLIENT_AUTH and "client_credentials" not in \
            (meta.get("grant_types_supported") or []):
        raise PrepareError("the AS does not offer the client_credentials grant")
    choices = client_choices(meta) if meta else None
    binding = choices["binding"] if choices else \
        {"bearer": "none", "dpop": "dpop", "mtls": "mtls", "refresh": "dpop"}[workload]
    client = TppClient(config, store, binding)
    out: dict[str, Any] = {
        "workload": workload, "as_url": config.as_url, "bank_url": config.bank_url,
        "issuer": config.issuer, "ca_cert": str(config.ca_cert_path),
        "clock_offset": clock.offset(store), "client_id": client.client_id,
        "dpop_jwk": client.dpop_jwk, "client_cert": list(client.cert) if client.cert else None,
        "assertion_jwk": client.assertion_jwk, "assertion_alg": ASSERTION_ALG,
        "institution": DEFAULT_ID,
    }
    if workload in TOKEN_CLIENT_AUTH:
        # Each request is a new token: nothing made here but the client that asks for them.
        out.update(choices or {}, scope=CLIENT_SCOPE,
                   **register_client(config, TOKEN_CLIENT_AUTH[workload]))
    elif workload in PAYMENT_KINDS:
        out.update(choices or {}, redirect_uri=client.redirect_uri, **payment_material(
            config, store, client, PAYMENT_KINDS[workload], users))
    elif choices:
        # Each simulated user links accounts itself, over and over: no tokens made here.
        out.update(choices, redirect_uri=client.redirect_uri, scope=SCOPE,
                   customers=flow_customers())
    elif workload == "refresh":
        # Refresh tokens may rotate: every simulated user walks its own chain.
        out["refresh_tokens"] = [client.tokens()["refresh_token"] for _ in range(users)]
    else:
        tokens = client.tokens()
        out["access_token"] = tokens["access_token"]
        if rotation is not None:
            rotation = dict(rotation, refresh_token=tokens.get("refresh_token"))
    if rotation is not None:
        out["rotation"] = rotation
    return out


def payment_material(config: LabConfig, store: Store, client: TppClient, kind: str,
                     users: int) -> dict[str, Any]:
    """The payment workloads' customers (with their checking account) and, for the payments
    on a linked grant, one grant per simulated user, whose sign-in is then made
    SIGN_IN_AGE old by advancing the lab clock (`fapi-lab load` puts it back afterwards)."""
    people = [{**c, "checking": ledger.account_id(str(c["username"]), "checking")}
              for c in flow_customers()]
    out: dict[str, Any] = {"kind": kind, "customers": people,
                           "scope": pay.SCOPE if kind == "rar" else PAYMENT_SCOPE}
    if kind != "rar":
        # Refresh tokens may rotate: every simulated user walks its own chain.
        out["refresh_tokens"] = [
            client.tokens(str(people[i % len(people)]["username"]), PAYMENT_SCOPE)
            ["refresh_token"] for i in range(users)]
        clock.advance(store, SIGN_IN_AGE)
    out["clock_offset"] = clock.offset(store)
    return out
