"""Token-bearing response types (implicit, hybrid: OIDC §3.2, §3.3; RFC 6749 §4.2).

Served only while response_type_code_only is off: FAPI2 §5.3.2.2 "shall require
the response_type value code", BCP §2.1.2 "clients SHOULD NOT use the implicit grant".
"""

from __future__ import annotations

from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import ImplicitGrant, OAuth2Request
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core import OpenIDHybridGrant, OpenIDImplicitGrant

from lab.controls import guard

from .errors import InvalidRequestError, UnknownClientError, UnsupportedResponseTypeError
from .grants import save_code
from .jarm import JWT_MODES, KNOWN_MODES
from .oidc import IdTokenSigning
from .redirect_uri import validate_redirect_uri

CODE_ONLY = guard("response_type_code_only")
RESPONSE_MODES = set(KNOWN_MODES)


def check_response_type(request: OAuth2Request, error_redirect_uri: str | None) -> None:
    """Called once a grant matched a token-bearing response_type."""
    if CODE_ONLY.on():
        raise CODE_ONLY.refuse(UnsupportedResponseTypeError(redirect_uri=error_redirect_uri),
                               reason=f"response_type={request.payload.response_type}")


class _FrontChannel(IdTokenSigning):
    """What the three token-bearing grants share in the lab."""

    request: OAuth2Request
    server: Any

    @property
    def signing(self) -> Any:  # type: ignore[override]
        return self.server.signing

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Any) -> str:
        return validate_redirect_uri(request, client.redirect_uris)

    def authenticate_token_endpoint_client(self) -> Any:
        # At the authorization endpoint there is no client authentication, only its id.
        client = self.server.query_client(self.request.payload.client_id)
        if client is None:
            raise UnknownClientError()
        return client

    def _check_response_mode(self) -> None:
        mode = self.request.payload.data.get("response_mode")
        if mode is not None and mode not in RESPONSE_MODES:
            raise InvalidRequestError()

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        """JARM §2.3.4: a JWT mode answers in the query (query.jwt) or the fragment (jwt,
        fragment.jwt, for token-bearing types) first; jarm.JarmResponse then signs it. Authlib's
        OIDC grants know only query, fragment and form_post (a 500 otherwise), and the request
        is immutable: so the JWT modes build the redirect here, as Authlib does for the rest."""
        mode = self.request.payload.data.get("response_mode")
        if mode not in JWT_MODES:
            return super().create_authorization_response(  # type: ignore[misc]
                redirect_uri, grant_user)
        if grant_user:
            params = list(self.create_granted_params(grant_user))  # type: ignore[attr-defined]
            if self.request.payload.state:
                params.append(("state", self.request.payload.state))
        else:
            params = AccessDeniedError().get_body()
        location = add_params_to_uri(redirect_uri, params, fragment=mode != "query.jwt")
        return 302, "", [("Location", location)]


class LabImplicitGrant(_FrontChannel, ImplicitGrant):
    """response_type=token (RFC 6749 §4.2)."""

    def validate_authorization_request(self) -> str:
        self._check_response_mode()
        return str(super().validate_authorization_request())

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        if grant_user:
            self.request.scope = grant_user.scope
        return super().create_authorization_response(redirect_uri, grant_user)


class LabOpenIDImplicitGrant(_FrontChannel, OpenIDImplicitGrant):
    """response_type=id_token and id_token token (OIDC §3.2)."""

    def validate_authorization_request(self) -> str:
        self._check_response_mode()
        return str(super().validate_authorization_request())

    def create_granted_params(self, grant_user: Any) -> list[tuple[str, Any]]:
        self.request.scope = grant_user.scope
        return list(super().create_granted_params(grant_user))


class LabOpenIDHybridGrant(_FrontChannel, OpenIDHybridGrant):
    """response_type=code id_token, code token, code id_token token (OIDC §3.3)."""

    def validate_authorization_request(self) -> str:
        self._check_response_mode()
        return str(super().validate_authorization_request())

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        save_code(code, request)

    def create_granted_params(self, grant_user: Any) -> list[tuple[str, Any]]:
        self.request.scope = grant_user.scope
        return list(super().create_granted_params(grant_user))


FRONT_CHANNEL_GRANTS = (LabImplicitGrant, LabOpenIDImplicitGrant, LabOpenIDHybridGrant)
