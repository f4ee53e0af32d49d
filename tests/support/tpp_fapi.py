"""Helpers for FinLens's FAPI 2.0 tests: TPP settings that restore, AS capabilities, tokens.

    def test_x(lab, controls, tpp_settings):
        tpp_settings.set(sender_constraint="mtls")      # before switching controls
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import pytest
import requests

from lab import context
from lab.serving.in_process import RunningLab
from lab.tpp import dpop_signer, institutions, settings


class TppSettings:
    def __init__(self, store: Any) -> None:
        self.store = store

    def set(self, **values: str) -> None:
        """Explicit TPP settings. An alt-deciding one re-applies the profile: set them first."""
        for name, value in values.items():
            settings.set_setting(self.store, name, value)


@contextmanager
def restored_tpp_settings(lab: RunningLab) -> Iterator[TppSettings]:
    """Profile defaults for the test (no explicit setting), put back afterwards.

    Use inside a fixture that depends on `controls`, so the switches are restored after.
    """
    saved = lab.store.get_setting(settings.SETTINGS_KEY)
    lab.store.set_setting(settings.SETTINGS_KEY, {})
    institutions.forget_metadata()
    dpop_signer.forget_nonces()
    with context.bound(lab.store, "tpp"):
        yield TppSettings(lab.store)
    lab.store.set_setting(settings.SETTINGS_KEY, saved or {})
    institutions.forget_metadata()


def as_metadata(lab: RunningLab) -> dict[str, Any]:
    session = requests.Session()
    session.trust_env = False
    r = session.get(lab.config.issuer + "/.well-known/openid-configuration",
                    verify=str(lab.config.ca_cert_path), timeout=10)
    data: dict[str, Any] = r.json()
    return data


def require_as(lab: RunningLab, *keys: str) -> dict[str, Any]:
    """Skip until the AS advertises what the test needs (parts built in parallel)."""
    meta = as_metadata(lab)
    missing = [k for k in keys if k not in meta]
    if missing:
        pytest.skip(f"the AS does not advertise {', '.join(missing)} yet")
    return meta


def link_row(lab: RunningLab, username: str) -> dict[str, Any]:
    row = lab.store.query_one("SELECT l.* FROM tpp_links l JOIN tpp_users u ON u.id = l.user_id "
                              "WHERE u.username = ? ORDER BY l.updated_at DESC", (username,))
    assert row is not None, f"no link for {username}"
    return row


def claims(token: str) -> dict[str, Any]:
    data: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return data


def with_param(url: str, name: str, value: str | None) -> str:
    """The callback URL with one parameter replaced (None: removed)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name]
    if value is not None:
        query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
