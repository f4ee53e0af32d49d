"""OAuth helpers for tests: authorization URLs, a scripted victim, token requests, DCR.

    code, verifier = authorize(lab)                      # alice consents, code for the TPP
    r = redeem(http, lab, code, verifier)                # POST /token as the TPP
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import requests

from lab.serving.in_process import RunningLab
from lab.useragent import AuthorizationResult, HttpUserAgent

DEFAULT_SCOPE = "openid accounts:read transactions:read offline_access"


def tpp_credentials(lab: RunningLab) -> tuple[str, str]:
    data = json.loads((lab.config.data_dir / "secrets" / "tpp-client.json").read_text())
    return data["client_id"], data["client_secret"]


def tpp_redirect_uri(lab: RunningLab) -> str:
    return lab.config.tpp_url + "/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorization_url(lab: RunningLab, **params: Any) -> str:
    """TPP-like request; pass a value of None to leave a parameter out."""
    query: dict[str, Any] = {
        "response_type": "code", "client_id": "tpp", "redirect_uri": tpp_redirect_uri(lab),
        "scope": DEFAULT_SCOPE, "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    query.update(params)
    return lab.config.as_url + "/authorize?" + urlencode(
        {k: v for k, v in query.items() if v is not None})


def victim(lab: RunningLab, **kwargs: Any) -> HttpUserAgent:
    return HttpUserAgent.for_lab(lab.config, lab.store, **kwargs)


def authorize(lab: RunningLab, *, username: str = "alice", pkce: bool = True,
              **params: Any) -> tuple[str, str | None]:
    """Run the front channel to the end; return (code, verifier)."""
    verifier = None
    if pkce and "code_challenge" not in params:
        verifier, challenge = pkce_pair()
        params = {"code_challenge": challenge, "code_challenge_method": "S256", **params}
    result = run(lab, username=username, **params)
    assert result.code, f"no code: {result.params} {result.response.status_code}"
    return result.code, verifier


def run(lab: RunningLab, *, username: str = "alice", **params: Any) -> AuthorizationResult:
    return victim(lab, username=username).authorize(authorization_url(lab, **params))


def redeem(http: requests.Session, lab: RunningLab, code: str, verifier: str | None = None, *,
           client: tuple[str, str] | None = None, redirect_uri: str | None = None,
           **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or tpp_redirect_uri(lab), **extra}
    if verifier:
        data["code_verifier"] = verifier
    return http.post(lab.config.as_url + "/token", data=data,
                     auth=client or tpp_credentials(lab))


def refresh(http: requests.Session, lab: RunningLab, refresh_token: str, *,
            client: tuple[str, str] | None = None, **extra: str) -> requests.Response:
    return http.post(lab.config.as_url + "/token",
                     data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
                     auth=client or tpp_credentials(lab))


def tokens(http: requests.Session, lab: RunningLab, **params: Any) -> dict[str, Any]:
    """A full code flow for the TPP: the token response."""
    code, verifier = authorize(lab, **params)
    r = redeem(http, lab, code, verifier)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def register(http: requests.Session, lab: RunningLab, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": ["https://127.0.0.1:9446/callback"], "client_name": "EvilApp",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid accounts:read transactions:read payments:write offline_access",
            **metadata}
    r = http.post(lab.config.as_url + "/register", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def credentials(registration: dict[str, Any]) -> tuple[str, str]:
    return registration["client_id"], registration["client_secret"]


def claims(jwt_value: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (tests check what the AS put in)."""
    payload = jwt_value.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def header(jwt_value: str) -> dict[str, Any]:
    part = jwt_value.split(".")[0]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


# --- private_key_jwt (RFC 7523) and PAR (RFC 9126) ---------------------------------------------
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_key() -> tuple[Any, dict[str, Any]]:
    """A fresh P-256 key and the public JWKS a client would register with it."""
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    public = key.as_dict(private=False) | {"kid": key.thumbprint(), "alg": "ES256", "use": "sig"}
    return key, {"keys": [public]}


def tpp_key(lab: RunningLab, alg: str = "ES256") -> Any:
    """The TPP's private signing key (registered at the AS with its public JWKS)."""
    from joserfc.jwk import import_key

    from lab import keys

    return import_key(keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "tpp"), alg))


def client_assertion(lab: RunningLab, client_id: str = "tpp", key: Any = None, *,
                     alg: str = "ES256", aud: Any = "issuer", lifetime: int = 60,
                     **claims: Any) -> str:
    """A private_key_jwt assertion; aud "issuer" means the AS issuer; claims=None drops one."""
    from joserfc import jwt as jose_jwt

    from lab import clock

    key = key if key is not None else tpp_key(lab, alg)
    now = clock.now_int(lab.store)
    body: dict[str, Any] = {"iss": client_id, "sub": client_id,
                            "aud": lab.config.issuer if aud == "issuer" else aud,
                            "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + lifetime}
    body.update(claims)
    header = {"alg": alg, "kid": key.thumbprint()}
    return jose_jwt.encode(header, {k: v for k, v in body.items() if v is not None}, key,
                           algorithms=[alg])


def assertion_params(assertion: str, client_id: str | None = None) -> dict[str, str]:
    params = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    if client_id:
        params["client_id"] = client_id
    return params


def pushed_params(lab: RunningLab, **params: Any) -> dict[str, Any]:
    """TPP-like authorization parameters to push; a value of None leaves one out."""
    query: dict[str, Any] = {
        "response_type": "code", "client_id": "tpp", "redirect_uri": tpp_redirect_uri(lab),
        "scope": DEFAULT_SCOPE, "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    query.update(params)
    return {k: v for k, v in query.items() if v is not None}


def push(http: requests.Session, lab: RunningLab, *, auth: Any = "assertion",
         cert: tuple[str, str] | None = None, **params: Any) -> requests.Response:
    """POST /par. auth: "assertion" (the TPP's private_key_jwt), a (client_id, secret) pair
    for client_secret_basic, a dict of extra form fields, or None; cert: a TLS client
    certificate (cert, key) for mutual TLS."""
    data = pushed_params(lab, **params)
    basic = None
    if auth == "assertion":
        data.update(assertion_params(client_assertion(lab, data.get("client_id", "tpp"))))
    elif isinstance(auth, tuple):
        basic = auth
    elif isinstance(auth, dict):
        data.update(auth)
    return http.post(lab.config.as_url + "/par", data=data, auth=basic, cert=cert)


def par_authorization_url(lab: RunningLab, request_uri: str, client_id: str = "tpp",
                          **extra: str) -> str:
    """FAPI2 §5.3.3: only client_id and request_uri in the front channel (plus `extra`)."""
    return lab.config.as_url + "/authorize?" + urlencode(
        {"client_id": client_id, "request_uri": request_uri, **extra})


def authorize_pushed(http: requests.Session, lab: RunningLab, *, username: str = "alice",
                     **params: Any) -> tuple[str, str]:
    """PAR with PKCE, then the front channel to the end; return (code, verifier)."""
    verifier, challenge = pkce_pair()
    r = push(http, lab, code_challenge=challenge, code_challenge_method="S256", **params)
    assert r.status_code == 201, r.text
    result = victim(lab, username=username).authorize(
        par_authorization_url(lab, r.json()["request_uri"]))
    assert result.code, f"no code: {result.params} {result.response.status_code}"
    return result.code, verifier


def redeem_with_assertion(http: requests.Session, lab: RunningLab, code: str,
                          verifier: str | None = None, **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": tpp_redirect_uri(lab),
            **assertion_params(client_assertion(lab), "tpp"), **extra}
    if verifier:
        data["code_verifier"] = verifier
    return http.post(lab.config.as_url + "/token", data=data)
