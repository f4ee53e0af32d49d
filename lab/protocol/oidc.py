"""OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6) on Authlib's OpenIDCode, signed ES256.

nonce, at_hash and auth_time come from the code; iat/exp from the lab clock.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from authlib.oidc.core import OpenIDCode, UserInfo

from lab import clock, context, keys
from lab.domain import customers

from .subjects import Subjects

ID_TOKEN_LIFETIME = 300
# The client an ID token is being made for, from get_compatible_claims to generate_user_info
# (Authlib calls them in that order, in both the code and the front-channel grants).
_ID_TOKEN_CLIENT: ContextVar[Any] = ContextVar("id_token_client", default=None)


@dataclass(frozen=True)
class Signing:
    """The AS's identity for what it signs: issuer and its key file (ES256 signs).

    Keys are read from the shared key file on each use (lab.keys.KeyFile re-reads it only
    when it changed), so a rotation reaches every worker process at its next request."""

    issuer: str
    keyring: keys.KeyFile
    subjects: Subjects | None = None    # pairwise `sub` (lab/protocol/subjects.py)

    def subject(self, client: Any, username: str, *, note: bool = False) -> str:
        """The `sub` this client gets for this user (OIDC Core §8)."""
        if self.subjects is None or client is None:
            return username
        return self.subjects.subject(client.get_client_id(), client.metadata, username,
                                     note=note)

    @property
    def private_keys(self) -> list[dict[str, Any]]:
        """The keys in the JWKS now (lab clock): the current ones and those still retiring."""
        return keys.published(self.keyring.read(), clock.now())

    @property
    def key(self) -> dict[str, Any]:
        now = clock.now()
        return keys.signing_key(keys.published(self.keyring.read(), now), "ES256", now)


def user_info(user: Any, scope: str, sub: str | None = None) -> UserInfo:
    """OIDC §5.1 claims for the lab's users: sub always (the client's pairwise one when given),
    name with `profile` or by default."""
    username = user.get_user_id() if hasattr(user, "get_user_id") else str(user)
    info = UserInfo(sub=sub or username)
    ctx = context.current_or_none()
    customer = customers.get(ctx.store, username) if ctx else None
    if customer:
        info["name"] = customer["display_name"]
    return info


class IdTokenSigning:
    """The parts of Authlib's LegacyMixin the lab overrides: key, alg, header, claims."""

    signing: Signing

    def resolve_client_private_key(self, client: Any) -> dict[str, Any]:
        return self.signing.key

    def get_client_algorithm(self, client: Any) -> str:
        return "ES256"

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": "ES256", "kid": self.signing.key["kid"], "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = clock.now_int()
        # OIDC Core §2: "aud ... MUST contain the OAuth 2.0 client_id of the Relying Party".
        return {"iss": self.signing.issuer, "aud": [client.get_client_id()],
                "azp": client.get_client_id(), "iat": now, "exp": now + ID_TOKEN_LIFETIME}

    def get_compatible_claims(self, request: Any) -> dict[str, Any]:
        _ID_TOKEN_CLIENT.set(request.client)
        claims = self.get_client_claims(request.client)
        auth_time = getattr(request.user, "auth_time", None)
        if auth_time:
            claims["auth_time"] = auth_time
        return claims

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # Replay of nonces is the client's check (tpp_checks_nonce); the AS does not refuse.
        return False

    def generate_user_info(self, user: Any, scope: str) -> UserInfo:
        client = _ID_TOKEN_CLIENT.get()
        _ID_TOKEN_CLIENT.set(None)
        username = user.get_user_id() if hasattr(user, "get_user_id") else str(user)
        return user_info(user, scope, self.signing.subject(client, username))


class LabOpenIDCode(IdTokenSigning, OpenIDCode):
    def __init__(self, signing: Signing) -> None:
        super().__init__(require_nonce=False)
        self.signing = signing
