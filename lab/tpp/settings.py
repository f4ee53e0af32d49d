"""TPP settings: which mechanisms the TPP uses (attacks.md §0). Settings, not controls.

Defaults follow the profile last applied; an explicit setting (the CLI, or an
attack's `needs:`) overrides it and stays until cleared. Defaults adapt to the
AS's discovery metadata as a real client does; explicit settings are used as
set, so the lab can make the TPP weak on purpose and let the AS refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.controls import profiles
from lab.controls.registry import Registry
from lab.store.base import Store

SETTINGS_KEY = "tpp_settings"

CHOICES: dict[str, tuple[str, ...]] = {
    # private_key_jwt comes later (fapi2-security's default once built).
    "client_auth": ("client_secret_post", "client_secret_basic"),
    "pkce": ("none", "plain", "S256"),
    "request": ("query",),
    "response_mode": ("query",),
}

PROFILE_DEFAULTS: dict[str, dict[str, str]] = {
    "legacy": {"client_auth": "client_secret_post", "pkce": "none", "request": "query",
               "response_mode": "query"},
    "oauth2": {"client_auth": "client_secret_basic", "pkce": "S256", "request": "query",
               "response_mode": "query"},
    # attacks.md §0 says private_key_jwt and PAR; until built, secret_basic and query.
    "fapi2-security": {"client_auth": "client_secret_basic", "pkce": "S256",
                       "request": "query", "response_mode": "query"},
}
FALLBACK_PROFILE = "fapi2-security"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class Effective:
    """The mechanisms one flow uses, and why (for the settings page and the evidence)."""

    client_auth: str
    pkce: str
    request: str
    response_mode: str
    notes: tuple[str, ...] = ()


def profile_defaults(store: Store) -> dict[str, str]:
    profile = profiles.base_name(Registry(store).profile())
    return dict(PROFILE_DEFAULTS.get(profile, PROFILE_DEFAULTS[FALLBACK_PROFILE]))


def overrides(store: Store) -> dict[str, str]:
    value = store.get_setting(SETTINGS_KEY, {})
    return {k: v for k, v in value.items() if k in CHOICES and v in CHOICES[k]} \
        if isinstance(value, dict) else {}


def current(store: Store) -> dict[str, str]:
    """Profile defaults with explicit settings on top (before adapting to the AS)."""
    return {**profile_defaults(store), **overrides(store)}


def set_setting(store: Store, name: str, value: str) -> None:
    if name not in CHOICES:
        raise KeyError(f"unknown TPP setting {name!r} (settings: {', '.join(CHOICES)})")
    if value not in CHOICES[name]:
        raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}")
    with store.transaction():
        saved = overrides(store)
        saved[name] = value
        store.set_setting(SETTINGS_KEY, saved)


def clear(store: Store, name: str | None = None) -> None:
    """Back to the profile default for `name`, or for every setting."""
    with store.transaction():
        saved = overrides(store)
        if name is None:
            saved = {}
        else:
            saved.pop(name, None)
        store.set_setting(SETTINGS_KEY, saved)


def effective(store: Store, metadata: dict[str, Any]) -> Effective:
    """The settings one flow uses at the AS described by `metadata` (RFC 8414)."""
    chosen, explicit = current(store), overrides(store)
    notes: list[str] = []

    # RFC 8414 §2: token_endpoint_auth_methods_supported — "If omitted, the default is
    # client_secret_basic".
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth = chosen["client_auth"]
    if "client_auth" not in explicit and auth not in methods:
        fitting = [m for m in SECRET_METHODS if m in methods]
        if fitting:
            notes.append(f"client_auth {auth} not offered by the AS: using {fitting[0]}")
            auth = fitting[0]

    # RFC 7636 §4.2: S256 is Mandatory To Implement on the server; plain only if it cannot.
    # The metadata cannot say PKCE is required, so 'none' stays none.
    pkce = chosen["pkce"]
    supported = metadata.get("code_challenge_methods_supported")
    if "pkce" not in explicit and pkce == "plain" and isinstance(supported, list) \
            and "plain" not in supported and "S256" in supported:
        notes.append("pkce plain not offered by the AS: using S256")
        pkce = "S256"

    return Effective(client_auth=auth, pkce=pkce, request=chosen["request"],
                     response_mode=chosen["response_mode"], notes=tuple(notes))
