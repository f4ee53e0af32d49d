"""What the AS remembers about each token it issues (Authlib's save_token).

Access tokens go to the shared consent store (the bank checks revocation there);
refresh tokens go to `refresh_tokens`, hashed, in a family.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request

from lab.audit import trail
from lab.domain import consent, reference_tokens, refresh_tokens
from lab.store.base import Store

from .tokens import ClientSubject, EndUser, unverified_claims


def save_token(store: Store, token: dict[str, Any], request: OAuth2Request) -> list[dict[str, str]]:
    """Record the token response's tokens; returns what was minted, for code replay revocation."""
    minted: list[dict[str, str]] = []
    audit: dict[str, object] = {}
    previous = getattr(request, "refresh_token", None)
    user = request.user
    grant_id = user.grant_id if isinstance(user, EndUser) else None
    # RFC 9068 §2.2: a client-credentials token's sub is the client, not a customer.
    is_customer = isinstance(user, EndUser) and not isinstance(user, ClientSubject)
    username = user.username if is_customer else None
    client_id = request.client.get_client_id()
    if token.get("access_token"):
        claims = unverified_claims(token["access_token"])
        consent.record_access_token(
            store, jti=claims["jti"], grant_id=grant_id, client_id=client_id, username=username,
            scope=claims.get("scope", ""), audience=claims.get("aud"),
            issued_at=claims["iat"], expires_at=claims["exp"])
        minted.append({"jti": claims["jti"]})
        audit.update(jti=claims["jti"], scope=claims.get("scope", ""))
        # The phantom-token switch (docs/gateway.md): the client gets a reference, never the
        # claims; the gateway in front of the bank trades it for a JWT by introspection.
        if reference_tokens.opaque(store):
            token["access_token"] = reference_tokens.issue(store, token["access_token"],
                                                           claims["exp"])
            # The reference hides the grant id the client needs to match pushed SETs
            # (sub_id, lab/protocol/security_events.py): Grant Management's token response
            # parameter `grant_id` says it.
            if grant_id:
                token["grant_id"] = grant_id
    if token.get("refresh_token"):
        # RFC 6749 §6: a new refresh token keeps "the identical scope as that of the refresh
        # token included by the client in the request".
        if isinstance(previous, refresh_tokens.RefreshToken):
            family, scope = previous.family, previous.scope
        else:
            family, scope = refresh_tokens.new_family(), token.get("scope", "")
        refresh_tokens.save(store, token["refresh_token"], grant_id=grant_id, client_id=client_id,
                     username=username, scope=scope, family=family)
        minted.append({"family": family})
        audit["refresh_family"] = family
    # The one record of each token response: a refresh when a refresh token was presented.
    trail.append(store, "refresh" if isinstance(previous, refresh_tokens.RefreshToken)
                 else "token_issued",
                 {"client_id": client_id, "username": username, "grant_id": grant_id,
                  "grant_type": str(getattr(request.payload, "grant_type", "") or ""),
                  **audit})
    request.lab_minted = minted  # type: ignore[attr-defined]
    return minted
