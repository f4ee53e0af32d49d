"""Revocation (RFC 7009) and introspection (RFC 7662) on Authlib's endpoints.

Both authenticate the client. A token is either one of this AS's JWT access
tokens (looked up by jti in the consent store) or an opaque refresh token.
Introspection answers in a signed JWT when the caller asks for one (RFC 9701,
lab/protocol/introspection_jwt.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from lab import clock, context
from lab.controls import guard
from lab.domain import consent, reference_tokens, refresh_tokens
from lab.domain.revocation import revoke_grant
from lab.store.base import Store

from . import introspection_jwt
from .errors import InvalidRequestError
from .tokens import verify_own

CASCADE = guard("revocation_cascade")
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


@dataclass
class AccessTokenRecord:
    """An access token as the AS knows it: its claims plus the registry row."""

    claims: dict[str, Any]
    row: dict[str, Any]

    def check_client(self, client: Any) -> bool:
        return bool(self.claims.get("client_id") == client.get_client_id())

    def is_expired(self) -> bool:
        return float(self.claims.get("exp", 0)) <= clock.now()

    def is_revoked(self) -> bool:
        return bool(self.row["revoked"])

    def get_client_id(self) -> str:
        return str(self.claims.get("client_id"))


def _store() -> Store:
    return context.current().store


def find_token(server: Any, value: object, hint: str | None) -> Any:
    """RFC 7009 §2.1: the hint is only a hint; both kinds are searched."""
    if not isinstance(value, str) or not value or len(value) > 8192:
        return None
    store = _store()
    lookups = [_access_token, _reference_token, _refresh_token]
    if hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        found = lookup(server, store, value)
        if found is not None:
            return found
    return None


def _access_token(server: Any, store: Store, value: str) -> AccessTokenRecord | None:
    claims = verify_own(value, server.signing.private_keys)
    if not claims or not isinstance(claims.get("jti"), str):
        return None
    row = consent.access_token_status(store, claims["jti"])
    return AccessTokenRecord(claims, row) if row else None


def _reference_token(server: Any, store: Store, value: str) -> AccessTokenRecord | None:
    """An opaque access token (docs/gateway.md): the AS's own JWT behind the reference."""
    jwt = reference_tokens.resolve(store, value)
    return _access_token(server, store, jwt) if jwt else None


def _refresh_token(server: Any, store: Store, value: str) -> refresh_tokens.RefreshToken | None:
    return refresh_tokens.find(store, value)


def _check_params(request: Any) -> None:
    form = request.form
    if not form.get("token") or len(form.getlist("token")) > 1:
        raise InvalidRequestError()


class LabRevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request: Any, client: Any) -> None:
        _check_params(request)
        super().check_params(request, client)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return find_token(self.server, token_string, token_type_hint)

    def revoke_token(self, token: Any, request: Any) -> None:
        store = _store()
        if isinstance(token, AccessTokenRecord):
            consent.revoke_access_token(store, token.claims["jti"])
            return
        refresh_tokens.revoke(store, token, "direct")
        # RFC 7009 §2.1: for a refresh token the AS "SHOULD also invalidate all access
        # tokens based on the same authorization grant" — that is revocation_cascade.
        if token.grant_id and CASCADE.on():
            revoke_grant(store, token.grant_id)


class LabIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request: Any, client: Any) -> None:
        _check_params(request)
        super().check_params(request, client)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return find_token(self.server, token_string, token_type_hint)

    def create_endpoint_response(self, request: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        """RFC 7662 §2.2 as JSON, or RFC 9701 §5 as a JWT for the authenticated caller."""
        client = self.authenticate_endpoint_client(request)
        token = self.authenticate_token(request, client)
        body = self.create_introspection_payload(token)
        if not introspection_jwt.wants_jwt(request.headers.get("Accept"), client.metadata):
            return 200, body, list(default_json_headers)
        signing = self.server.signing
        signed = introspection_jwt.sign(signing.key, signing.issuer, client.get_client_id(), body)
        headers = [h for h in default_json_headers if h[0] != "Content-Type"]
        return 200, signed, [("Content-Type", introspection_jwt.MEDIA_TYPE), *headers]

    def check_permission(self, token: Any, client: Any, request: Any) -> bool:
        # RFC 7662 §4: the AS decides who may introspect what: the token's own client,
        # or a client registered as a resource server.
        return bool(token.get_client_id() == client.get_client_id()
                    or client.metadata.get("lab_resource_server") is True)

    def introspect_token(self, token: Any) -> dict[str, Any]:
        if isinstance(token, AccessTokenRecord):
            c = token.claims
            body = {"active": True, "scope": c.get("scope"), "client_id": c.get("client_id"),
                    "sub": c.get("sub"), "exp": c.get("exp"), "iat": c.get("iat"),
                    "iss": c.get("iss"), "token_type": "Bearer", "jti": c.get("jti")}
            if c.get("aud") is not None:
                body["aud"] = c["aud"]
            # RFC 9470 §6.2: introspection tells the resource server acr and auth_time (and
            # amr, RFC 9068 §2.2.1), so a step-up policy works on opaque tokens too.
            for claim in ("auth_time", "acr", "amr"):
                if c.get(claim) is not None:
                    body[claim] = c[claim]
            # RFC 9396 §9.2: introspection names the authorization_details granted.
            if isinstance(c.get("authorization_details"), list):
                body["authorization_details"] = c["authorization_details"]
            # RFC 9449 §6.2 / RFC 8705 §3.2: introspection returns the token's cnf.
            if isinstance(c.get("cnf"), dict):
                body["cnf"] = c["cnf"]
                if "jkt" in c["cnf"]:
                    body["token_type"] = "DPoP"
            return body
        grant = consent.get_grant(_store(), token.grant_id) if token.grant_id else None
        # OIDC Core §8: the same sub the token's client sees in its ID and access tokens.
        owner = self.server.query_client(token.client_id)
        sub = self.server.signing.subject(owner, token.username) if token.username else None
        return {"active": True, "scope": token.scope, "client_id": token.client_id,
                "sub": sub, "iat": int(token.issued_at),
                "iss": self.server.signing.issuer, "token_type": "refresh_token",
                "grant_active": bool(grant and grant["active"])}
