"""Withdrawing a grant (the user on the bank's "connected apps" page, or RFC 7009).

RFC 7009 §2.1: "If the particular token is a refresh token and the authorization
server supports the revocation of access tokens, then the authorization server
SHOULD also invalidate all access tokens based on the same authorization grant."
"""

from __future__ import annotations

from lab.controls import guard
from lab.domain import consent, refresh_tokens
from lab.store.base import Store

CASCADE = guard("revocation_cascade")


def revoke_grant(store: Store, grant_id: str) -> bool:
    """Withdraw the grant; with revocation_cascade on, kill its refresh and access tokens too."""
    withdrawn = consent.mark_grant_revoked(store, grant_id)
    if CASCADE.on():
        refresh_tokens.revoke_of_grant(store, grant_id)
        consent.revoke_access_tokens_of_grant(store, grant_id)
    return withdrawn
