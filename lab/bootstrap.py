"""First start: data directory, CA, certificates, keys, schema, demo data, TPP registration.

Idempotent: every later start finds what exists and keeps it (registrations,
grants and events survive a restart).
"""

from __future__ import annotations

import secrets

from lab import pki
from lab.config import LabConfig
from lab.controls.registry import ENABLED_KEY, Registry
from lab.domain import consent, customers, ledger
from lab.store import SQLiteStore, Store


def ensure_admin_token(config: LabConfig) -> str:
    path = config.admin_token_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def open_store(config: LabConfig, store_url: str | None = None) -> Store:
    """SQLite in the data directory; single-use state in Redis when `store_url` names one."""
    store = SQLiteStore(config.db_path)
    if store_url:
        from lab.store.redis_once import with_redis

        return with_redis(store, store_url, namespace=config.issuer)
    return store


def bootstrap(config: LabConfig, store: Store | None = None, *, profile: str | None = None
              ) -> Store:
    """Prepare everything a lab needs; apply `profile` when given (or on a new store)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.data_dir.chmod(0o700)
    pki.ensure_ca(config.pki_dir)
    pki.server_cert(config.pki_dir, config.host)
    ensure_admin_token(config)
    store = store or open_store(config)
    consent.ensure_schema(store)
    customers.seed(store)
    ledger.seed(store, [u.username for u in customers.DEMO_USERS])

    from lab.authserver import app as authserver
    from lab.bank import app as bank
    from lab.tpp import app as tpp

    authserver.setup(config, store)
    bank.setup(config, store)
    tpp.setup(config, store)

    registry = Registry(store)
    if profile:
        registry.apply_profile(profile)
    elif store.get_setting(ENABLED_KEY) is None:
        registry.apply_profile(config.profile)
    return store
