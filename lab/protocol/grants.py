"""Code, refresh and password grants on Authlib, with the token-endpoint controls.

code_single_use, code_short_lifetime, code_client_binding,
refresh_token_client_binding, refresh_rotation_reuse_detection,
refresh_scope_check, revocation_cascade (at refresh), ropc_disabled, mfa_required (ROPC).
The code, refresh and password grants carry the sender constraint (lab/protocol/dpop.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.hooks import hooked

from lab import clock, context
from lab.controls import guard
from lab.domain import consent, customers, ledger, refresh_tokens
from lab.store.base import Store

from . import auth_context, codes, dpop, resources
from .errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    InvalidTargetError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from .issuance import save_token
from .redirect_uri import validate_redirect_uri
from .tokens import EndUser

SINGLE_USE = guard("code_single_use")
SHORT_CODE = guard("code_short_lifetime")
CODE_BINDING = guard("code_client_binding")
RT_BINDING = guard("refresh_token_client_binding")
ROTATION = guard("refresh_rotation_reuse_detection")
SCOPE_CHECK = guard("refresh_scope_check")
CASCADE = guard("revocation_cascade")
ROPC = guard("ropc_disabled")
MFA = guard("mfa_required")

# RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
CODE_MAX_AGE = 600
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


class CodeExpiredError(InvalidGrantError):
    description = "The authorization code has expired."


class CodeReusedError(InvalidGrantError):
    description = "The authorization code was already used; its tokens are revoked."


class CodeBindingError(InvalidGrantError):
    description = "The authorization code was issued to another client or redirect_uri."


class RefreshBindingError(InvalidGrantError):
    description = "The refresh token was issued to another client."


class RefreshReusedError(InvalidGrantError):
    description = "The refresh token was superseded; its family is revoked."


class RefreshRevokedError(InvalidGrantError):
    description = "The refresh token was revoked."


class PasswordOnlyError(InvalidGrantError):
    description = "A second factor is required; the password grant cannot provide one."


def _store() -> Store:
    return context.current().store


def _check_client_grant_type(client: Any, grant_type: str) -> None:
    if not client.check_grant_type(grant_type):
        raise UnauthorizedClientError()


class LabAuthorizationCodeGrant(dpop.SenderConstrainedGrant, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: Any, client: Any) -> str:
        return validate_redirect_uri(request, client.redirect_uris)

    def save_authorization_code(self, code: str, request: Any) -> None:
        save_code(code, request)

    def authenticate_user(self, authorization_code: codes.AuthorizationCode) -> EndUser:
        c = authorization_code
        return EndUser(c.username, c.grant_id, c.auth_time, c.acr, tuple(c.amr), c.scope)

    @hooked
    def validate_token_request(self) -> None:
        store = _store()
        client = self.authenticate_token_endpoint_client()
        _check_client_grant_type(client, self.GRANT_TYPE)
        code = codes.find(store, self.request.form.get("code"))
        if code is None:
            raise InvalidGrantError()
        age = clock.now(store) - code.issued_at
        if age > CODE_MAX_AGE:
            raise CodeExpiredError()
        # RFC 6749 §4.1.3: "ensure that the authorization code was issued to the
        # authenticated confidential client" and that redirect_uri values "are identical".
        if code.client_id != client.get_client_id() and CODE_BINDING.on():
            raise CODE_BINDING.refuse(CodeBindingError(),
                                      reason=f"code of {code.client_id} redeemed by another client")
        sent_uri = self.request.payload.redirect_uri
        if code.redirect_uri and sent_uri != code.redirect_uri and CODE_BINDING.on():
            raise CODE_BINDING.refuse(CodeBindingError(), reason="redirect_uri differs from the "
                                      "authorization request's")
        if code.used_at is not None and SINGLE_USE.on():
            raise refuse_reused_code(store, code)
        # FAPI2 §5.3.2.1: "shall issue authorization codes with a maximum lifetime of 60 seconds"
        limit = float(SHORT_CODE.param("lifetime", 60))
        if age > limit and SHORT_CODE.on():
            raise SHORT_CODE.refuse(CodeExpiredError(), reason=f"code is {age:.0f} s old "
                                    f"(limit {limit:.0f} s)")
        self.request.client = client
        self.request.authorization_code = code

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        store = _store()
        client = self.request.client
        code: codes.AuthorizationCode = self.request.authorization_code
        # Consumed only now, after every check passed: a failed redemption leaves it usable.
        if not codes.consume(store, code) and SINGLE_USE.on():
            raise refuse_reused_code(store, codes.find_by_hash(store, code.code_hash) or code)
        user = self.authenticate_user(code)
        self.request.user = user
        token = self.generate_token(user=user, scope=code.scope,
                                    include_refresh_token=client.check_grant_type("refresh_token"))
        codes.remember_tokens(store, code, save_token(store, token, self.request))
        return 200, token, self.TOKEN_RESPONSE_HEADER


def refuse_reused_code(store: Store, code: codes.AuthorizationCode) -> Exception:
    revoked = codes.revoke_tokens_of(store, code)
    return SINGLE_USE.refuse(CodeReusedError(), reason=f"code already redeemed; revoked "
                             f"{revoked} token(s) from the first redemption")


def save_code(code: str, request: Any) -> None:
    """Shared by the code and hybrid grants: what the token endpoint will check later."""
    user: EndUser = request.user
    data = request.payload.data
    codes.save(_store(), code, client_id=request.client.get_client_id(),
               redirect_uri=request.payload.redirect_uri, scope=user.scope,
               username=user.username, grant_id=user.grant_id, nonce=data.get("nonce"),
               auth_time=user.auth_time, acr=user.acr, amr=list(user.amr),
               code_challenge=data.get("code_challenge"),
               code_challenge_method=data.get("code_challenge_method"),
               dpop_jkt=getattr(request, "dpop_jkt", None) or dpop.bind_code_jkt(data))


class LabRefreshTokenGrant(dpop.SenderConstrainedGrant, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @hooked
    def validate_token_request(self) -> None:
        store = _store()
        client = self._validate_request_client()
        self.request.client = client
        token = refresh_tokens.find(store, self.request.form.get("refresh_token"))
        if token is None:
            raise InvalidGrantError()
        # RFC 6749 §6: the AS MUST "validate the refresh token" and that it "was issued to
        # the authenticated client".
        if token.client_id != client.get_client_id() and RT_BINDING.on():
            raise RT_BINDING.refuse(RefreshBindingError(),
                                    reason=f"refresh token of {token.client_id} used by another")
        self._check_revocation(store, token)
        if token.superseded_at is not None and ROTATION.on():
            raise refuse_reused_refresh(store, token)
        self._check_scope(token)
        self._check_resource(store)
        self.request.refresh_token = token

    def _check_resource(self, store: Store) -> None:
        """RFC 8707 §2.2: a refresh may name the resource the new access token is for."""
        named = self.request.form.getlist("resource")
        if not named:
            self.request.lab_resource = None
            return
        # RFC 8707 §2: invalid_target for a resource that is "invalid, missing, unknown, or
        # malformed" (one resource per token in the lab).
        if len(named) > 1 or not resources.known(store, self.server.config.bank_url, named[0]):
            raise InvalidTargetError()
        self.request.lab_resource = named[0]

    def _check_revocation(self, store: Store, token: refresh_tokens.RefreshToken) -> None:
        if token.revoked == "cascade":
            raise CASCADE.refuse(RefreshRevokedError(), reason="refresh token revoked with "
                                 "its grant (cascade)")
        if token.revoked == "reuse":
            raise ROTATION.refuse(RefreshReusedError(), reason="refresh token family was "
                                  "revoked after reuse")
        if token.revoked:
            raise RefreshRevokedError()
        grant = consent.get_grant(store, token.grant_id) if token.grant_id else None
        if grant is not None and not grant["active"] and CASCADE.on():
            refresh_tokens.revoke(store, token, "cascade")
            raise CASCADE.refuse(RefreshRevokedError(), reason="the grant was withdrawn")

    def _check_scope(self, token: refresh_tokens.RefreshToken) -> None:
        asked = self.request.payload.scope
        if not asked or not isinstance(asked, str):
            return
        # RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted".
        extra = set(asked.split()) - set(token.scope.split())
        if extra and SCOPE_CHECK.on():
            raise SCOPE_CHECK.refuse(InvalidScopeError(),
                                     reason="refresh asks for more: " + " ".join(sorted(extra)))

    def authenticate_user(self, refresh_token: refresh_tokens.RefreshToken) -> EndUser:
        grant = consent.get_grant(_store(), refresh_token.grant_id) \
            if refresh_token.grant_id else None
        auth_time = int(grant["auth_time"]) if grant and grant.get("auth_time") else None
        acr = grant.get("acr") if grant else None
        # RFC 9068 §2.2.1: a refreshed token tells the same (old) authentication.
        return EndUser(refresh_token.username or "", refresh_token.grant_id, auth_time, acr,
                       auth_context.amr_for(_store(), refresh_token.username or "", acr),
                       refresh_token.scope)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        store = _store()
        old: refresh_tokens.RefreshToken = self.request.refresh_token
        rotate = ROTATION.on()
        # BCP §4.14.2: with rotation, "the previous refresh token is invalidated".
        if rotate and not refresh_tokens.supersede(store, old):
            raise refuse_reused_refresh(store, old)
        user = self.authenticate_user(old)
        resource = getattr(self.request, "lab_resource", None)
        if resource:
            user = replace(user, audience=resource)
        self.request.user = user
        scope = self.request.payload.scope or old.scope
        token = self.generate_token(user=user, scope=scope, include_refresh_token=rotate)
        save_token(store, token, self.request)
        if not rotate:
            token["refresh_token"] = self.request.form.get("refresh_token")
        return 200, token, self.TOKEN_RESPONSE_HEADER


def refuse_reused_refresh(store: Store, token: refresh_tokens.RefreshToken) -> Exception:
    revoked = refresh_tokens.revoke_family(store, token.family, "reuse")
    return ROTATION.refuse(RefreshReusedError(), reason=f"superseded refresh token presented; "
                           f"revoked {revoked} token(s) of its family")


class LabPasswordGrant(dpop.SenderConstrainedGrant, grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @classmethod
    def check_token_endpoint(cls, request: Any) -> bool:
        if not super().check_token_endpoint(request):
            return False
        # BCP §2.4: "The resource owner password credentials grant MUST NOT be used."
        if ROPC.on():
            raise ROPC.refuse(UnsupportedGrantTypeError(), reason="grant_type=password")
        return True

    @hooked
    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        _check_client_grant_type(client, self.GRANT_TYPE)
        form = self.request.form
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            raise InvalidRequestError()
        store = _store()
        if not customers.check_password(store, username, password):
            raise InvalidGrantError()
        # PSD2 RTS Art. 4: strong customer authentication needs two independent elements.
        if MFA.on():
            raise MFA.refuse(PasswordOnlyError(), reason="password grant: no second factor")
        self.request.client = client
        self.validate_requested_scope()
        scope = client.get_allowed_scope(self.request.payload.scope)
        self.request.user = password_grant_user(store, username, client.get_client_id(), scope)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        user: EndUser = self.request.user
        token = self.generate_token(user=user, scope=user.scope,
                                    include_refresh_token=self.request.client.check_grant_type(
                                        "refresh_token"))
        save_token(_store(), token, self.request)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def password_grant_user(store: Store, username: str, client_id: str, scope: str) -> EndUser:
    """No consent screen: the grant covers every account for every requested permission."""
    permissions = consent.permissions_in(scope.split())
    accounts = {a["id"]: permissions for a in ledger.accounts_of(store, username)} \
        if permissions else {}
    now = clock.now_int(store)
    grant_id = consent.create_grant(store, username=username, client_id=client_id, scope=scope,
                                    accounts=accounts, auth_time=now, acr="pwd")
    return EndUser(username, grant_id, now, "pwd", ("pwd",), scope)
