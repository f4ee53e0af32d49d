"""The TPP's HTTP session to one institution's AS: Authlib's OAuth2Session plus FAPI 2.0 transport.

Client authentication (secrets, private_key_jwt, tls_client_auth), DPoP proofs
with the nonce retry on every back-channel POST, and the TLS client certificate
when mutual TLS is used. Only what discovery says about the AS is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session

from lab import context
from lab.config import LabConfig
from lab.web.request_id import HEADER

from . import assertion, institutions, keyring, secret_rotation
from .dpop_signer import Signer
from .dpop_signer import send as send_with_proof
from .errors import InstitutionUnavailableError
from .institutions import Institution
from .settings import Effective

CREDENTIALS_FILE = ("secrets", "tpp-client.json")
TIMEOUT = 15
SIGNIN_CALLBACK = "/signin/callback"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str | None
    redirect_uri: str


def credentials(config: LabConfig, inst: Institution | None = None) -> Credentials:
    """The TPP's registration: its secret at the honest AS (written by the AS's setup);
    at an outside AS only the client_id, which asymmetric methods need."""
    path = config.data_dir.joinpath(*CREDENTIALS_FILE)
    try:
        data = json.loads(path.read_text())
        client_id, secret = str(data["client_id"]), str(data["client_secret"])
    except (OSError, ValueError, KeyError):
        if inst is None:
            raise InstitutionUnavailableError() from None
        client_id, secret = inst.client_id, ""
    # The secret was issued by the lab's AS: it goes to no other issuer, even one that
    # registered FinLens under the same client_id (EvilBank, attacks.md §0).
    if inst is not None and (inst.client_id != client_id or inst.issuer != config.issuer):
        client_id, secret = inst.client_id, ""
    return Credentials(client_id, secret or None, config.tpp_url + "/callback")


def signin_redirect_uri(config: LabConfig) -> str:
    """"Sign in with your bank"'s own redirect URI, registered beside the link callback."""
    return config.tpp_url + SIGNIN_CALLBACK


def endpoint(meta: dict[str, Any], name: str, chosen: Effective) -> str | None:
    """RFC 8705 §5: with mutual TLS, use mtls_endpoint_aliases where the AS lists them."""
    aliases = meta.get("mtls_endpoint_aliases")
    if chosen.uses_mtls and isinstance(aliases, dict) and isinstance(aliases.get(name), str):
        return str(aliases[name])
    value = meta.get(name)
    return value if isinstance(value, str) else None


def _send(http: OAuth2Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    response: requests.Response = OAuth2Session.request(http, method, url, **kwargs)
    return response


class FapiSession(OAuth2Session):  # type: ignore[misc]
    """OAuth2Session whose requests carry a DPoP proof, retried once with a server nonce."""

    signer: Signer | None = None

    def request(self, method: str, url: str, withhold_token: bool = False,
                auth: Any = None, **kwargs: Any) -> requests.Response:
        if self.signer is None:
            return _send(self, method, url, withhold_token=withhold_token, auth=auth, **kwargs)

        def do(extra: dict[str, str]) -> requests.Response:
            # Authlib passes a shared DEFAULT_HEADERS dict: copy, never mutate it.
            headers = {**(kwargs.get("headers") or {}), **extra}
            return _send(self, method, url, withhold_token=withhold_token, auth=auth,
                         **{**kwargs, "headers": headers})

        # RFC 9449 §5: "a DPoP proof ... in a DPoP header" with the token request; §10.1: and
        # with the PAR request, which binds the code to the key.
        return send_with_proof(do, self.signer, method, url)


def dpop_signer(config: LabConfig, inst: Institution) -> Signer:
    return Signer(keyring.dpop_key(config, inst))


def _cached_token_endpoint(config: LabConfig, inst: Institution) -> str | None:
    """The token endpoint the institution's metadata names (build runs after prepare, so the
    metadata is cached)."""
    try:
        meta = institutions.metadata(inst, str(config.ca_cert_path))
    except InstitutionUnavailableError:
        return None
    value = meta.get("token_endpoint")
    return value if isinstance(value, str) else None


def build(config: LabConfig, inst: Institution, chosen: Effective) -> FapiSession:
    if inst.issuer == config.issuer:
        # FinLens's secret at HonestBank: rotated through RFC 7592 before it expires.
        secret_rotation.before_use(config, chosen.client_auth)
    creds = credentials(config, inst)
    session = FapiSession(creds.client_id, creds.client_secret,
                          token_endpoint_auth_method=chosen.client_auth,
                          revocation_endpoint_auth_method=chosen.client_auth,
                          redirect_uri=creds.redirect_uri)
    if chosen.client_auth == "private_key_jwt":
        session.register_client_auth_method(("private_key_jwt", assertion.auth_method(
            inst.issuer, keyring.assertion_key(config, chosen.assertion_alg),
            chosen.assertion_alg, token_endpoint=_cached_token_endpoint(config, inst))))
    session.register_client_auth_method(("tls_client_auth", assertion.tls_client_auth))
    if chosen.uses_mtls:
        session.cert = keyring.client_certificate(config, inst)
    if chosen.uses_dpop:
        session.signer = dpop_signer(config, inst)
    session.verify = institutions.ca_for(str(config.ca_cert_path), inst)
    # requests lets $REQUESTS_CA_BUNDLE override session.verify unless trust_env is off.
    session.trust_env = False
    # Back-channel calls carry the browser request's id, so the events the AS records for
    # them (a PKCE refusal at the token endpoint) name the request the user made.
    ctx = context.current_or_none()
    if ctx and ctx.request_id:
        session.headers[HEADER] = ctx.request_id
    return session
