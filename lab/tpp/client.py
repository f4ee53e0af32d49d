"""The TPP's OAuth client: authorization request (query or PAR), token, refresh, revoke.

No Flask here. Pending flows are plain dicts so the web layer can keep them in
the browser session (FAPI2 §5.3.3.2: bind the flow to the user agent). The
transport (client auth, DPoP, mutual TLS) is lab/tpp/session.py.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from requests import RequestException

from lab import clock, context
from lab.config import LabConfig

from . import institutions, jar, session, settings
from .errors import InstitutionUnavailableError, PushedRequestFailedError, TokenRequestFailedError
from .institutions import Institution
from .session import Credentials, credentials  # noqa: F401 - the TPP's registration

# An aggregator reads; payments:write is not asked for (attacks.md authz-request-scope-tampering).
# rewards:read only where the AS lists it (a partner API registered there, lab/tpp/rewards.py).
REQUESTED_SCOPE = "openid accounts:read transactions:read offline_access rewards:read"
PAYMENT_SCOPE = "payments:write"   # only with the payments setting on
OPTIONAL_SCOPES = ("rewards:read",)   # asked for only where scopes_supported lists it
TIMEOUT = session.TIMEOUT
# "Sign in with your bank" asks only who the person is (OIDC §3.1.2.1: openid is required).
SIGNIN_SCOPE = "openid"


@dataclass(frozen=True)
class PendingFlow:
    """What the TPP must remember between the authorization request and the callback."""

    state: str
    nonce: str
    code_verifier: str | None
    pkce: str
    issuer: str
    institution_id: str
    scope: str
    created_at: float
    response_type: str = "code"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> PendingFlow | None:
        """A flow read back from the session; None for anything that is not one."""
        if not isinstance(data, dict):
            return None
        try:
            flow = cls(**{k: data[k] for k in cls.__dataclass_fields__
                          if k in data or k != "response_type"})
        except (KeyError, TypeError):
            return None
        return flow if isinstance(flow.state, str) and isinstance(flow.created_at, float | int) \
            else None


def prepare(config: LabConfig, inst: Institution) -> tuple[dict[str, Any], settings.Effective]:
    """The institution's metadata and the settings a request to it uses."""
    meta = institutions.metadata(inst, str(config.ca_cert_path))
    return meta, settings.effective(context.current().store, meta)


def requested_scope(meta: dict[str, Any], *, payments: bool = False) -> str:
    """The aggregator's scopes (with `payments`, payments:write too), minus those the AS says
    it does not know (RFC 8414 §2 scopes_supported); openid always (OIDC §3.1.2.1)."""
    supported = meta.get("scopes_supported")
    wanted = REQUESTED_SCOPE.split() + ([PAYMENT_SCOPE] if payments else [])
    if isinstance(supported, list):
        wanted = [s for s in wanted if s == "openid" or s in supported]
    else:
        wanted = [s for s in wanted if s not in OPTIONAL_SCOPES]
    return " ".join(wanted)


def _pkce(method: str) -> tuple[str | None, dict[str, str]]:
    if method == "none":
        return None, {}
    # RFC 7636 §4.1: a high-entropy cryptographic random string, 43 to 128 characters.
    verifier = secrets.token_urlsafe(48)
    # RFC 7636 §4.2: plain — code_challenge = code_verifier;
    # S256 — code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
    challenge = create_s256_code_challenge(verifier) if method == "S256" else verifier
    return verifier, {"code_challenge": challenge, "code_challenge_method": method}


def _push(http: session.FapiSession, meta: dict[str, Any], chosen: settings.Effective,
          params: dict[str, str]) -> str:
    """RFC 9126 §2.1: POST the authorization parameters, authenticated; get a request_uri."""
    url = session.endpoint(meta, "pushed_authorization_request_endpoint", chosen)
    if url is None:
        raise PushedRequestFailedError(None)
    if chosen.client_auth == "client_secret_post":
        # The auth method adds client_id itself; RFC 6749 §3.1: never a parameter twice.
        params = {k: v for k, v in params.items() if k != "client_id"}
    try:
        response = http.post(url, data=params, auth=http.client_auth(chosen.client_auth),
                             withhold_token=True, timeout=TIMEOUT)
        body = response.json()
    except (RequestException, ValueError, OAuthError):
        raise PushedRequestFailedError(None) from None
    # RFC 9126 §2.2: "201 HTTP status code" with request_uri and expires_in.
    if response.status_code not in (200, 201) or not isinstance(body, dict) \
            or not isinstance(body.get("request_uri"), str):
        raise PushedRequestFailedError(body.get("error") if isinstance(body, dict) else None)
    return str(body["request_uri"])


def start_flow(config: LabConfig, inst: Institution, *, signin: bool = False,
               scope: str | None = None, extra: dict[str, str] | None = None
               ) -> tuple[str, PendingFlow]:
    """Build the authorization request (RFC 6749 §4.1.1, OIDC §3.1.2.1, RFC 9126) and its flow.

    signin: "Sign in with your bank" (lab/tpp/signin.py): scope openid, its own redirect
    URI, and with the `login` setting hybrid, response_type=code id_token (OIDC §3.3.2.1).
    scope / extra: another scope and more parameters (a payment's authorization_details, a
    step-up's acr_values and max_age, RFC 9470 §4).
    """
    meta, chosen = prepare(config, inst)
    store = context.current().store
    http = session.build(config, inst, chosen)
    verifier, pkce_params = _pkce(chosen.pkce)
    # RFC 6749 §10.12: state binds the response to the user agent; OIDC §3.1.2.1: nonce
    # binds the ID token to it.
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    scope = SIGNIN_SCOPE if signin else (
        scope or requested_scope(meta, payments=chosen.payments == "on"))
    response_type = "code id_token" if signin and chosen.login == "hybrid" else "code"
    redirect_uri = session.signin_redirect_uri(config) if signin else http.redirect_uri
    params = {"response_type": response_type, "client_id": http.client_id,
              "redirect_uri": redirect_uri, "scope": scope, "state": state,
              "nonce": nonce, **pkce_params, **(extra or {})}
    if chosen.response_mode == "jwt":
        params["response_mode"] = "jwt"   # JARM §2.3.4: query.jwt for response_type=code
    if not chosen.uses_par and http.signer is not None:
        # RFC 9449 §10: dpop_jkt binds the code to the key the token request will use.
        params["dpop_jkt"] = http.signer.jkt
    if chosen.signs_request:
        # RFC 9101 §5 / RFC 9126 §3: every parameter inside the signed object; beside it
        # only client_id.
        params = {"client_id": http.client_id,
                  "request": jar.request_object(config, inst, chosen, params)}
    if chosen.uses_par:
        request_uri = _push(http, meta, chosen, params)
        # RFC 9126 §4 / FAPI2 §5.3.3.1: the front channel carries only client_id and
        # request_uri.
        url = add_params_to_uri(meta["authorization_endpoint"],
                                [("client_id", http.client_id), ("request_uri", request_uri)])
    else:
        url = add_params_to_uri(meta["authorization_endpoint"], list(params.items()))
    flow = PendingFlow(state=state, nonce=nonce, code_verifier=verifier, pkce=chosen.pkce,
                       issuer=institutions.issuer_of(meta, inst), institution_id=inst.id,
                       scope=scope,
                       created_at=clock.now(store), response_type=response_type)
    return url, flow


def _token_endpoint(meta: dict[str, Any], chosen: settings.Effective) -> str:
    url = session.endpoint(meta, "token_endpoint", chosen)
    if url is None:
        raise InstitutionUnavailableError()
    return url


def redeem_code(config: LabConfig, inst: Institution, code: str,
                code_verifier: str | None, *, redirect_uri: str | None = None) -> dict[str, Any]:
    """RFC 6749 §4.1.3 token request; with no pending flow, no verifier (the AS decides).

    redirect_uri: the one the authorization request named (§4.1.3: "identical"), when it
    was not the link callback."""
    meta, chosen = prepare(config, inst)
    http = session.build(config, inst, chosen)
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    try:
        token = http.fetch_token(_token_endpoint(meta, chosen), grant_type="authorization_code",
                                 code=code, redirect_uri=redirect_uri or http.redirect_uri,
                                 timeout=TIMEOUT,
                                 **extra)
    except OAuthError as exc:
        raise TokenRequestFailedError(exc.error) from None
    except (RequestException, ValueError):
        raise TokenRequestFailedError(None) from None
    return dict(token)


def refresh(config: LabConfig, inst: Institution, refresh_token: str,
            **extra: str) -> dict[str, Any]:
    """RFC 6749 §6. Raises TokenRequestFailedError (invalid_grant once the grant is revoked).

    extra: more token request parameters — a narrower `scope` (RFC 6749 §6), a `resource`
    (RFC 8707 §2.2) for a token meant for another API.
    """
    meta, chosen = prepare(config, inst)
    http = session.build(config, inst, chosen)
    try:
        token = http.refresh_token(_token_endpoint(meta, chosen), refresh_token=refresh_token,
                                   timeout=TIMEOUT, **extra)
    except OAuthError as exc:
        raise TokenRequestFailedError(exc.error) from None
    except (RequestException, ValueError):
        raise TokenRequestFailedError(None) from None
    return dict(token)


def revoke(config: LabConfig, inst: Institution, token: str | None, hint: str) -> bool:
    """RFC 7009 §2.1 revocation request; True when the AS answered 200."""
    if not token:
        return False
    try:
        meta, chosen = prepare(config, inst)
        url = session.endpoint(meta, "revocation_endpoint", chosen)
        if url is None:
            return False
        http = session.build(config, inst, chosen)
        http.signer = None   # RFC 9449 defines no proof for revocation
        response = http.revoke_token(url, token=token, token_type_hint=hint, timeout=TIMEOUT)
    except (InstitutionUnavailableError, RequestException, OAuthError):
        return False
    return response.status_code == 200
