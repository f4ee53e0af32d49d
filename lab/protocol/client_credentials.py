"""The client credentials grant (RFC 6749 §4.4) on Authlib: a token for the client itself.

No end user, so no login, consent, ID token or refresh token: what load tests use to
measure token issuance alone. Client authentication, the method policy
(private_key_jwt_only, mtls_client_auth, the assertion controls) and the sender
constraint (dpop_bound_tokens, mtls_bound_tokens) are the other grants' own, reused
through Authlib's client-auth hook and dpop.SenderConstrainedGrant.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.hooks import hooked

from lab import context

from . import dpop
from .errors import InvalidScopeError, UnauthorizedClientError
from .issuance import save_token
from .tokens import ClientSubject

# RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
# clients", so "none" is not among the methods; the mTLS methods join while mtls_client_auth
# is on (client_auth.permitted_methods).
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
# Scopes that only mean something with an end user: an ID token (OIDC Core §3.1.2.1) and
# offline access on the user's behalf (OIDC Core §11). Neither is issued here.
END_USER_SCOPES = frozenset({"openid", "offline_access"})


class ClientScopeError(InvalidScopeError):
    description = "The requested scope is not registered for this client or needs an end user."


def granted_scope(client: Any, requested: object) -> str:
    """The scope of the client's token: what it asks for, within what it registered.

    RFC 6749 §3.3: "If the client omits the scope parameter when requesting authorization,
    the authorization server MUST either process the request using a pre-defined default
    value or fail the request indicating an invalid scope" — the default here is every
    registered scope that needs no end user."""
    registered = str(client.client_metadata.get("scope") or "").split()
    if requested is None or requested == "":
        scope = [s for s in registered if s not in END_USER_SCOPES]
    elif isinstance(requested, str):
        scope = requested.split()
        if not set(scope) <= set(registered) - END_USER_SCOPES:
            raise ClientScopeError()
    else:
        raise ClientScopeError()
    if not scope:
        raise ClientScopeError()
    return " ".join(dict.fromkeys(scope))


class LabClientCredentialsGrant(dpop.SenderConstrainedGrant, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    @hooked
    def validate_token_request(self) -> None:
        # Hooked (Authlib's is not), so the sender-constraint extension checks the DPoP
        # proof or client certificate right after this.
        client = self.authenticate_token_endpoint_client()
        # RFC 7591 §2: grant_types is "Array of OAuth 2.0 grant type strings that the client
        # can use at the token endpoint".
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError()
        self.request.client = client
        scope = granted_scope(client, self.request.payload.scope)
        # RFC 9068 §2.2: with "no resource owner involved, such as the client credentials
        # grant, the value of sub SHOULD correspond to an identifier the authorization server
        # uses to indicate the client application".
        self.request.user = ClientSubject(client.get_client_id(), scope=scope)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        subject: ClientSubject = self.request.user
        # RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
        token = self.generate_token(user=subject, scope=subject.scope,
                                    include_refresh_token=False)
        save_token(context.current().store, token, self.request)
        return 200, token, self.TOKEN_RESPONSE_HEADER
