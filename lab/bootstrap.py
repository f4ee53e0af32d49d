"""First start: data directory, CA, certificates, keys, schema, demo data, TPP registration.

Idempotent: every later start finds what exists and keeps it (registrations,
grants and events survive a restart).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

from lab import pki
from lab.config import LabConfig
from lab.controls.registry import ENABLED_KEY, Registry
from lab.domain import consent, customers, ledger
from lab.store import SQLiteStore, Store

MIN_ADMIN_TOKEN = 32  # characters; secrets.token_urlsafe(32) gives 43


def ensure_admin_token(config: LabConfig) -> str:
    """Create the admin token once, atomically: written to a private (0600) temp file, then
    hard-linked into place, which fails if another process got there first. A reader never
    sees an empty or half-written file, and a racing worker never replaces the token."""
    path = config.admin_token_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".admin-token.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    token, _ = read_admin_token(config)
    return token or ""


def read_admin_token(config: LabConfig) -> tuple[str | None, str]:
    """(token, "") or (None, why not): a missing, empty or short file opens nothing."""
    path = config.admin_token_path
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        return None, f"the token file {path} is missing"
    except (OSError, UnicodeDecodeError) as error:
        return None, f"the token file {path} cannot be read ({error.__class__.__name__})"
    if len(token) < MIN_ADMIN_TOKEN:
        return None, (f"the token file {path} is empty" if not token else
                      f"the token in {path} is too short ({len(token)} < {MIN_ADMIN_TOKEN})")
    return token, ""


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
    customers.seed(store, config.password_iterations)
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
