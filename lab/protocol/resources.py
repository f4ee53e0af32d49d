"""Resource servers besides the bank that this AS issues tokens for (RFC 8707 resource indicators).

A partner API (the attacker module's PartnerRewards) registers its origin and the one
scope it serves. Clients name it with `resource` at the token endpoint (RFC 8707
§2.2, a refresh narrowing to that scope); with aud_check on, the token's aud is
that origin, so the bank refuses it (RFC 9068 §4). Its scope appears in the
metadata and on the consent page as an account-less permission.
"""

from __future__ import annotations

from lab.store.base import Store

SETTING_KEY = "as_resource_servers"


def register(store: Store, uri: str, *, name: str, scope: str) -> None:
    """Add or update one resource server (origin, display name, scope it serves)."""
    current = registered(store)
    entry = {"name": name, "scope": scope}
    if current.get(uri) != entry:
        store.set_setting(SETTING_KEY, {**current, uri: entry})


def registered(store: Store) -> dict[str, dict[str, str]]:
    saved = store.get_setting(SETTING_KEY)
    return {k: v for k, v in saved.items() if isinstance(v, dict)} \
        if isinstance(saved, dict) else {}


def scope_words(store: Store) -> dict[str, str]:
    """Account-less scopes of the registered resource servers, in the user's words."""
    return {entry["scope"]: f"Let the app read your {entry['name']} points"
            for entry in registered(store).values() if entry.get("scope")}


def known(store: Store, bank_url: str, resource: str) -> bool:
    """RFC 8707 §2: the AS must know the resource, else invalid_target."""
    return resource == bank_url or resource in registered(store)


