"""The bank's pages name a connected app from the AS's client directory, via lab.domain."""

from __future__ import annotations

from pathlib import Path

from lab.authserver import clients as as_clients
from lab.domain import clients
from lab.store import SQLiteStore


def _store(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "lab.sqlite3")
    clients.ensure_schema(store)
    return store


def test_a_registered_app_is_named_by_its_client_name(tmp_path):
    store = _store(tmp_path)
    as_clients.create(store, client_id="c1", client_secret=None,
                      metadata={"client_name": "FinLens", "redirect_uris": []})
    assert clients.client_name(store, "c1") == "FinLens"


def test_an_app_without_a_name_or_registration_is_named_by_its_client_id(tmp_path):
    store = _store(tmp_path)
    as_clients.create(store, client_id="c2", client_secret=None, metadata={})
    assert clients.client_name(store, "c2") == "c2"
    assert clients.client_name(store, "gone") == "gone"
