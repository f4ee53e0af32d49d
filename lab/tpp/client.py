"""The TPP's OAuth client (Authlib's requests client): authorization, token, refresh, revoke.

No Flask here. Pending flows are plain dicts so the web layer can keep them in
the browser session (FAPI2 §5.3.3.2: bind the flow to the user agent).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from requests import RequestException

from lab import clock, context
from lab.config import LabConfig
from lab.web.request_id import HEADER

from . import institutions, settings
from .errors import InstitutionUnavailableError, TokenRequestFailedError
from .institutions import Institution

# An aggregator reads; payments:write is not asked for (attacks.md authz-request-scope-tampering).
REQUESTED_SCOPE = "openid accounts:read transactions:read offline_access"
CREDENTIALS_FILE = ("secrets", "tpp-client.json")
TIMEOUT = 15


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    redirect_uri: str


def credentials(config: LabConfig) -> Credentials:
    """The TPP's registration at the honest AS, written by the AS's setup."""
    path = config.data_dir.joinpath(*CREDENTIALS_FILE)
    try:
        data = json.loads(path.read_text())
        return Credentials(data["client_id"], data["client_secret"],
                           config.tpp_url + "/callback")
    except (OSError, ValueError, KeyError):
        raise InstitutionUnavailableError() from None


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> PendingFlow | None:
        """A flow read back from the session; None for anything that is not one."""
        if not isinstance(data, dict):
            return None
        try:
            flow = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None
        return flow if isinstance(flow.state, str) and isinstance(flow.created_at, float | int) \
            else None


def _session(config: LabConfig, creds: Credentials, auth_method: str) -> OAuth2Session:
    session = OAuth2Session(creds.client_id, creds.client_secret,
                            token_endpoint_auth_method=auth_method,
                            revocation_endpoint_auth_method=auth_method,
                            redirect_uri=creds.redirect_uri)
    session.verify = str(config.ca_cert_path)
    # requests lets $REQUESTS_CA_BUNDLE override session.verify unless trust_env is off.
    session.trust_env = False
    # Back-channel calls carry the browser request's id, so the events the AS records for
    # them (a PKCE refusal at the token endpoint) name the request the user made.
    ctx = context.current_or_none()
    if ctx and ctx.request_id:
        session.headers[HEADER] = ctx.request_id
    return session


def _pkce(method: str) -> tuple[str | None, dict[str, str]]:
    if method == "none":
        return None, {}
    # RFC 7636 §4.1: a high-entropy cryptographic random string, 43 to 128 characters.
    verifier = secrets.token_urlsafe(48)
    # RFC 7636 §4.2: plain — code_challenge = code_verifier;
    # S256 — code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
    challenge = create_s256_code_challenge(verifier) if method == "S256" else verifier
    return verifier, {"code_challenge": challenge, "code_challenge_method": method}


def start_flow(config: LabConfig, inst: Institution) -> tuple[str, PendingFlow]:
    """Build the authorization request URL (RFC 6749 §4.1.1, OIDC §3.1.2.1) and its flow."""
    ca = str(config.ca_cert_path)
    meta = institutions.metadata(inst, ca)
    store = context.current().store
    chosen = settings.effective(store, meta)
    creds = credentials(config)
    verifier, pkce_params = _pkce(chosen.pkce)
    # RFC 6749 §10.12: state binds the response to the user agent; OIDC §3.1.2.1: nonce
    # binds the ID token to it.
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session = _session(config, creds, chosen.client_auth)
    url, _ = session.create_authorization_url(
        meta["authorization_endpoint"], state=state, response_type="code",
        scope=REQUESTED_SCOPE, nonce=nonce, **pkce_params)
    flow = PendingFlow(state=state, nonce=nonce, code_verifier=verifier, pkce=chosen.pkce,
                       issuer=inst.issuer, institution_id=inst.id, scope=REQUESTED_SCOPE,
                       created_at=clock.now(store))
    return url, flow


def redeem_code(config: LabConfig, inst: Institution, code: str,
                code_verifier: str | None) -> dict[str, Any]:
    """RFC 6749 §4.1.3 token request; with no pending flow, no verifier (the AS decides)."""
    meta = institutions.metadata(inst, str(config.ca_cert_path))
    chosen = settings.effective(context.current().store, meta)
    creds = credentials(config)
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    try:
        token = _session(config, creds, chosen.client_auth).fetch_token(
            meta["token_endpoint"], grant_type="authorization_code", code=code,
            redirect_uri=creds.redirect_uri, timeout=TIMEOUT, **extra)
    except OAuthError as exc:
        raise TokenRequestFailedError(exc.error) from None
    except (RequestException, ValueError):
        raise TokenRequestFailedError(None) from None
    return dict(token)


def refresh(config: LabConfig, inst: Institution, refresh_token: str) -> dict[str, Any]:
    """RFC 6749 §6. Raises TokenRequestFailedError (invalid_grant once the grant is revoked)."""
    meta = institutions.metadata(inst, str(config.ca_cert_path))
    chosen = settings.effective(context.current().store, meta)
    session = _session(config, credentials(config), chosen.client_auth)
    try:
        token = session.refresh_token(meta["token_endpoint"], refresh_token=refresh_token,
                                      timeout=TIMEOUT)
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
        meta = institutions.metadata(inst, str(config.ca_cert_path))
        endpoint = meta.get("revocation_endpoint")
        if not isinstance(endpoint, str):
            return False
        chosen = settings.effective(context.current().store, meta)
        session = _session(config, credentials(config), chosen.client_auth)
        response = session.revoke_token(endpoint, token=token, token_type_hint=hint,
                                        timeout=TIMEOUT)
    except (InstitutionUnavailableError, RequestException, OAuthError):
        return False
    return response.status_code == 200
