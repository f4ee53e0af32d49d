"""Dynamic client registration (RFC 7591) and its management API (RFC 7592), open to anyone.

The body is type- and value-checked before Authlib sees it (lab/protocol/client_metadata.py),
so malformed metadata is a 400 invalid_client_metadata or invalid_redirect_uri, never a crash,
and nothing is stored that a page naming the client could not show.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from typing import Any

from authlib.oauth2.claims import BaseClaims
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import (
    ClientMetadataClaims,
    ClientRegistrationEndpoint,
    InvalidClientMetadataError,
    InvalidRedirectURIError,
)
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint
from joserfc.errors import JoseError

from lab import context, pki
from lab.protocol import (
    client_metadata,
    client_secrets,
    introspection_jwt,
    metadata,
    mtls_client_auth,
    subjects,
)
from lab.protocol.errors import InvalidRequestError

from . import clients

STRING_FIELDS = ("token_endpoint_auth_method", "client_name", "client_uri", "logo_uri", "scope",
                 "tos_uri", "policy_uri", "jwks_uri", "software_id", "software_version",
                 "client_id", "client_secret", "id_token_signed_response_alg",
                 "tls_client_auth_subject_dn", "subject_type", "sector_identifier_uri",
                 "introspection_signed_response_alg")
LIST_FIELDS = ("redirect_uris", "grant_types", "response_types", "contacts")
REDIRECT_GRANTS = {"authorization_code", "implicit"}
# The scope words of the client an RFC 7592 update is for, while that update runs.
_HELD_SCOPE: ContextVar[tuple[str, ...]] = ContextVar("held_scope", default=())


class BadMetadataError(InvalidClientMetadataError):
    description = "The client metadata is malformed or not supported by this server."


class BadRedirectUriError(InvalidRedirectURIError):
    description = "A redirect URI is not acceptable to this server."


class RegistrationTokenError(InvalidTokenError):
    description = "The registration access token is missing or invalid."


def check_metadata(data: Any) -> dict[str, Any]:
    """RFC 7591 §2 types; anything else is refused before it reaches Authlib."""
    if not isinstance(data, dict):
        raise BadMetadataError()
    try:
        client_metadata.check(data)
    except client_metadata.MetadataProblem as problem:
        # RFC 7591 §3.2.2: invalid_redirect_uri for "one or more redirection URIs",
        # invalid_client_metadata for any other field. The description names the field only.
        error = BadRedirectUriError() if problem.redirect_uri else BadMetadataError()
        error.description = str(problem)
        raise error from None
    for name in STRING_FIELDS:
        if name in data and not isinstance(data[name], str):
            raise BadMetadataError()
    for name in LIST_FIELDS:
        if name in data and (not isinstance(data[name], list)
                             or not all(isinstance(v, str) for v in data[name])):
            raise BadMetadataError()
    jwks = data.get("jwks")
    if jwks is not None and (not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list)):
        raise BadMetadataError()
    if data.get("token_endpoint_auth_method") == "private_key_jwt" and jwks is None:
        raise BadMetadataError()
    check_mtls_metadata(data)
    # OIDC Registration §2 subject_type (Core §8.1 sector); RFC 9701 §6 introspection metadata.
    for refused in (subjects.check_registration(data), introspection_jwt.check_registration(data)):
        if refused:
            raise _described(refused)
    # RFC 9449 §5.2: "dpop_bound_access_tokens": a boolean.
    if not isinstance(data.get("dpop_bound_access_tokens", False), bool):
        raise BadMetadataError()
    grant_types = set(data.get("grant_types") or ["authorization_code"])
    if grant_types & REDIRECT_GRANTS and not data.get("redirect_uris"):
        # RFC 7591 §2: "clients using flows with redirection MUST register their redirection
        # URI values".
        raise BadMetadataError()
    # RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    # clients".
    if "client_credentials" in grant_types and data.get("token_endpoint_auth_method") == "none":
        raise BadMetadataError()
    return data


def _described(problem: str) -> BadMetadataError:
    error = BadMetadataError()
    error.description = problem
    return error


def check_mtls_metadata(data: dict[str, Any]) -> None:
    method = data.get("token_endpoint_auth_method")
    dn = data.get("tls_client_auth_subject_dn")
    if dn is not None and mtls_client_auth.canonical_dn(dn) is None:
        raise BadMetadataError()
    # RFC 8705 §2.1.2: a tls_client_auth client registers the subject it is known by.
    if method == "tls_client_auth" and dn is None:
        raise BadMetadataError()
    # RFC 8705 §2.2.2: a self_signed_tls_client_auth client registers its certificate in
    # jwks (x5c); the lab needs the certificate itself to let it through the TLS handshake.
    if method == "self_signed_tls_client_auth" and \
            not mtls_client_auth.self_signed_pems(data.get("jwks")):
        raise BadMetadataError()


class LabClientMetadataClaims(BaseClaims):
    """RFC 8705 §2.1.2, RFC 9449 §5.2, OIDC Registration §2 (subject_type) and RFC 9701 §6
    client metadata, kept next to RFC 7591's."""

    REGISTERED_CLAIMS = ["tls_client_auth_subject_dn", "dpop_bound_access_tokens", "subject_type",
                         "introspection_signed_response_alg"]


CLAIMS_CLASSES = [ClientMetadataClaims, LabClientMetadataClaims]


def trust_self_signed(endpoint: Any, client_metadata: dict[str, Any]) -> None:
    """RFC 8705 §2.2: let the registered self-signed certificates through TLS (lab.pki)."""
    if client_metadata.get("token_endpoint_auth_method") != "self_signed_tls_client_auth":
        return
    for pem in mtls_client_auth.self_signed_pems(client_metadata.get("jwks")):
        pki.trust_client_certificate(endpoint.server.config.pki_dir, pem)


def with_defaults(client_metadata: dict[str, Any]) -> dict[str, Any]:
    # RFC 7591 §2: omitted grant_types/response_types default to authorization_code/code;
    # an omitted scope gets the server's default set. A client without a redirection grant
    # (client credentials alone) uses no response type (RFC 7591 §2.1).
    out = dict(client_metadata)
    out.setdefault("grant_types", ["authorization_code"])
    redirects = bool(set(out["grant_types"] or ["authorization_code"]) & REDIRECT_GRANTS)
    out.setdefault("response_types", ["code"] if redirects else [])
    out.setdefault("token_endpoint_auth_method", "client_secret_basic")
    out.setdefault("scope", " ".join(metadata.SCOPES))
    return out


def _issuer(endpoint: Any) -> str:
    return str(endpoint.server.config.issuer)


class LabClientRegistrationEndpoint(ClientRegistrationEndpoint):
    def __init__(self, server: Any = None) -> None:
        super().__init__(server, claims_classes=CLAIMS_CLASSES)

    def create_registration_response(self, request: Any) -> Any:
        check_metadata(request.payload.data)
        return super().create_registration_response(request)

    def authenticate_token(self, request: Any) -> Any:
        return True  # open registration: the lab's attacker registers its own client

    def get_server_metadata(self) -> dict[str, Any]:
        return metadata.build(_issuer(self))

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any],
                    request: Any) -> clients.Client:
        token = secrets.token_urlsafe(32)
        request.lab_registration_token = token
        trust_self_signed(self, client_metadata)
        return clients.create(context.current().store, client_id=client_info["client_id"],
                              client_secret=client_info["client_secret"],
                              metadata=with_defaults(client_metadata), registration_token=token,
                              secret_expires_at=client_info["client_secret_expires_at"])

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        # RFC 7591 §3.2.1: client_secret_expires_at, "REQUIRED if client_secret is issued".
        info: dict[str, Any] = super().generate_client_info(request)
        info["client_secret_expires_at"] = client_secrets.expires_at()
        return info

    def generate_client_registration_info(self, client: Any, request: Any) -> dict[str, str]:
        # RFC 7592 §3: the response carries registration_client_uri and the access token.
        return {"registration_client_uri": f"{_issuer(self)}/register/{client.client_id}",
                "registration_access_token": request.lab_registration_token,
                **client.client_metadata, **client.client_info}


class RegistrationToken:
    def __init__(self, client: clients.Client, value: str) -> None:
        self.client, self.value = client, value

    def check_client(self, client: clients.Client) -> bool:
        return self.client.client_id == client.client_id


class LabClientConfigurationEndpoint(ClientConfigurationEndpoint):
    def __init__(self, server: Any = None) -> None:
        super().__init__(server, claims_classes=CLAIMS_CLASSES)

    def authenticate_token(self, request: Any) -> RegistrationToken:
        scheme, _, value = str(request.headers.get("Authorization") or "").partition(" ")
        client = clients.by_registration_token(context.current().store, value.strip()) \
            if scheme.lower() == "bearer" and value.strip() else None
        if client is None:
            raise RegistrationTokenError()
        return RegistrationToken(client, value.strip())

    def authenticate_client(self, request: Any) -> clients.Client | None:
        client_id = request.uri.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return clients.get(context.current().store, client_id)

    def revoke_access_token(self, *args: Any) -> None:
        """An unknown client id with a valid token: nothing to revoke beyond refusing."""

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        """Authlib 1.x's own version also `print`s every refused claim to the process's
        stdout (a stray debug line in rfc7592/endpoint.py), which landed in the middle of
        `fapi-lab matrix`'s progress; the same checks and error, without the print."""
        data = request.payload.data.copy()
        server_metadata = self.get_server_metadata()
        found: dict[str, Any] = {}
        for claims_class in self.claims_classes:
            options = (claims_class.get_claims_options(server_metadata)
                       if hasattr(claims_class, "get_claims_options") and server_metadata
                       else {})
            claims = claims_class(data, {}, options, server_metadata)
            try:
                claims.validate()
            except JoseError as error:
                raise InvalidClientMetadataError(error.description) from error
            found.update(**claims.get_registered_claims())
        return found

    def check_permission(self, client: clients.Client, request: Any) -> bool:
        return True

    def create_update_client_response(self, client: clients.Client, request: Any) -> Any:
        check_metadata(request.payload.data)
        held = _HELD_SCOPE.set(tuple(str(client.metadata.get("scope") or "").split()))
        try:
            return super().create_update_client_response(client, request)
        finally:
            _HELD_SCOPE.reset(held)

    def update_client(self, client: clients.Client, client_metadata: dict[str, Any],
                      request: Any) -> clients.Client:
        # RFC 7592 §2.2: "Omitted fields MUST be treated as null or empty values".
        store = context.current().store
        trust_self_signed(self, client_metadata)
        clients.update_metadata(store, client.client_id, with_defaults(client_metadata))
        if client.client_secret:
            # RFC 7592 §2.2: an update is how a client rotates: a new secret and expiry, in
            # the response (client_info); a new jwks comes in the metadata it sent.
            clients.rotate_secret(store, client.client_id, client_secrets.expires_at())
        updated = clients.get(store, client.client_id)
        if updated is None:
            raise InvalidRequestError()
        return updated

    def delete_client(self, client: clients.Client, request: Any) -> None:
        clients.delete(context.current().store, client.client_id)

    def generate_client_registration_info(self, client: Any, request: Any) -> dict[str, str]:
        return {"registration_client_uri": f"{_issuer(self)}/register/{client.client_id}",
                "registration_access_token": request.credential.value}

    def get_server_metadata(self) -> dict[str, Any]:
        # An update (a secret rotation) may keep the scope the client already holds, even a
        # partner API's that discovery does not list yet (FinLens's rewards:read).
        meta = metadata.build(_issuer(self))
        meta["scopes_supported"] = list(dict.fromkeys([*meta["scopes_supported"],
                                                       *_HELD_SCOPE.get()]))
        return meta
