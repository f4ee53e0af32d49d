"""JWT access tokens (RFC 9068) signed ES256 by the AS, and their lifetime and audience.

Claims as docs/architecture.md fixes them: iss, sub, aud (bank origin, only with
aud_check on), client_id, scope, jti, iat, exp, auth_time, acr, amr, grant_id, and cnf for
sender-constrained tokens (lab/protocol/dpop.py decides it). Time comes from the
lab clock, never from time.time().
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt as jwt_keys
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lab import clock, keys
from lab.controls import guard
from lab.jose import b64, jws

from .subjects import Subjects

SHORT_LIFETIME = guard("short_access_token_lifetime")
AUD = guard("aud_check")


@dataclass(frozen=True)
class EndUser:
    """The signed-in user as the grants see it: who, under which grant, authenticated when."""

    username: str
    grant_id: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()
    scope: str = ""
    # RFC 7800 §3.1 confirmation for this token request (jkt, x5t#S256): set by the grant.
    cnf: dict[str, str] | None = field(default=None, compare=False)
    # RFC 8707 §2: the resource the client named for this token (None: the bank).
    audience: str | None = field(default=None, compare=False)

    def get_user_id(self) -> str:
        return self.username


@dataclass(frozen=True)
class ClientSubject(EndUser):
    """No end user (client credentials): `username` holds the client_id, which becomes `sub`.

    An EndUser so the grants' cnf and audience threading applies unchanged; never a
    customer, so save_token records no username for it."""


def access_token_lifetime() -> int:
    # FAPI2 §6.1 (security considerations): short-lived access tokens limit replay.
    name = "lifetime" if SHORT_LIFETIME.on() else "lifetime_off"
    return int(SHORT_LIFETIME.param(name, 300 if name == "lifetime" else 3600))


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """Authlib's RFC 9068 generator on the lab clock, with the lab's aud and grant_id."""

    def __init__(self, issuer: str, current_key: Callable[[], dict[str, Any]],
                 audience: str, subjects: Subjects | None = None) -> None:
        super().__init__(issuer=issuer, alg="ES256",
                         refresh_token_generator=lambda **_: secrets.token_urlsafe(32),
                         expires_generator=lambda client, grant_type: access_token_lifetime())
        self.current_key = current_key   # the signing key now: it changes at a rotation
        self.audience = audience
        self.subjects = subjects         # pairwise `sub` (OIDC Core §8; RFC 9068 §6)
        # Imported once per kid: parsing the private JWK per token cost more than signing.
        self._key_sets: dict[str, KeySet] = {}
        self._signers: dict[str, jwt_keys.PyJWK] = {}

    @property
    def key(self) -> dict[str, Any]:
        return self.current_key()

    def get_jwks(self) -> KeySet:
        key = self.key
        found = self._key_sets.get(key["kid"])
        if found is None:
            found = self._key_sets[key["kid"]] = KeySet.import_key_set({"keys": [key]})
        return found

    def signer(self) -> tuple[str, jwt_keys.PyJWK]:
        """The current signing key's kid and key object, loaded once per kid."""
        key = self.key
        found = self._signers.get(key["kid"])
        if found is None:
            found = self._signers[key["kid"]] = jwt_keys.PyJWK(key, algorithm="ES256")
        return key["kid"], found

    def generate(self, grant_type: str, client: Any, user: Any = None,  # type: ignore[override]
                 scope: str | None = None, expires_in: int | None = None,
                 include_refresh_token: bool = True) -> dict[str, Any]:
        """RFC 9396 §7: the token response names the authorization_details it grants."""
        token: dict[str, Any] = super().generate(grant_type, client, user, scope, expires_in,
                                                 include_refresh_token)
        if isinstance(user, EndUser) and (details := rar_details(user.grant_id)):
            token["authorization_details"] = details
        return token

    def _subject(self, client: Any, user: Any) -> str:
        """RFC 9068 §2.2: the user's `sub` — the client's pairwise one when it has one, since
        the client can read this JWT (§6) — or the client itself without a user."""
        if not user:
            return str(client.get_client_id())
        username = str(user.get_user_id())
        if self.subjects is None or isinstance(user, ClientSubject):
            return username
        return self.subjects.subject(client.get_client_id(), client.metadata, username,
                                     note=True)

    def access_token_generator(self, client: Any, grant_type: str, user: Any,  # type: ignore[override]
                               scope: str) -> str:
        now = clock.now_int()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self._subject(client, user),
            "client_id": client.get_client_id(),
            "scope": scope,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + access_token_lifetime(),
        }
        # RFC 9068 §3: "aud ... REQUIRED"; the lab leaves it out when aud_check is off
        # so the bank's audience check has something to teach.
        if AUD.on():
            named = user.audience if isinstance(user, EndUser) else None
            claims["aud"] = named or self.audience
        if isinstance(user, EndUser):
            if user.auth_time:
                claims["auth_time"] = user.auth_time
            if user.grant_id:
                claims["grant_id"] = user.grant_id
            # RFC 9068 §2.2.1: auth_time, acr and amr describe the user's authentication,
            # what a resource server's step-up policy reads (RFC 9470 §6.1).
            if user.acr:
                claims["acr"] = user.acr
            if user.amr:
                claims["amr"] = list(user.amr)
            # RFC 9396 §9.1: the granted authorization_details travel in the token.
            if details := rar_details(user.grant_id):
                claims["authorization_details"] = details
            # RFC 9449 §6.1 / RFC 8705 §3.1: the key or certificate the token is bound to.
            if user.cnf:
                claims["cnf"] = dict(user.cnf)
        # RFC 9068 §2.1: "typ ... MUST be at+jwt"
        kid, key = self.signer()
        return jws.sign({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, key)


def rar_details(grant_id: str | None) -> list[dict[str, Any]] | None:
    from .rar import granted  # rar imports the resolver, which the grants import

    return granted(grant_id)


def unverified_claims(token: str) -> dict[str, Any]:
    """Claims of a token this AS just minted (for bookkeeping, never for trust)."""
    return b64.json_segment(token, 1)


def verify_own(token: object, private_keys: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Claims of an access token signed by this AS, or None (expiry is the caller's call)."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
        return None
    try:
        key = KeySet.import_key_set(keys.public_jwks(private_keys))  # type: ignore[arg-type]
        decoded = jwt.decode(token, key, algorithms=["ES256"])
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    if decoded.header.get("typ") != "at+jwt":
        return None
    return dict(decoded.claims)
