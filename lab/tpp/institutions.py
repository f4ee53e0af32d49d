"""The TPP's directory of institutions, and their discovery metadata (RFC 8414, OIDC Discovery).

Institutions live in the store so the attacker module can add EvilBank and
PartnerRewards later. Metadata is fetched from the issuer over TLS (lab CA) and
cached briefly, so a control switched at the AS shows up in the next flow.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from lab import context
from lab.config import LabConfig
from lab.controls import guard
from lab.controls.registry import ENABLED_KEY, PARAMS_KEY
from lab.jose.jws import JwksSource
from lab.store import columns
from lab.store.base import Store

from .errors import DiscoveryIssuerMismatchError, InstitutionUnavailableError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tpp_institutions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    api_base TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    client_id TEXT NOT NULL DEFAULT 'tpp',
    ca_path TEXT
);
"""
# Columns added after the first release of the table (data directories from before).
MIGRATIONS = (("client_id", "TEXT NOT NULL DEFAULT 'tpp'"), ("ca_path", "TEXT"))
COLUMNS = "id, name, issuer, api_base, client_id, ca_path"

DEFAULT_ID = "honestbank"
ID = re.compile(r"^[a-z0-9_-]{1,32}$")
METADATA_TTL = 5.0
WELL_KNOWN = "/.well-known/openid-configuration"
CHECKS_ISS = guard("tpp_checks_iss")
MAX_ISSUER = 2048    # a believed issuer goes into the session's pending flow: keep it bounded


@dataclass(frozen=True)
class Institution:
    """A bank in FinLens's directory: its AS (issuer), its API, and FinLens's client_id there.

    ca_path: a CA bundle for an outside AS that does not use the lab CA (None: the lab CA).
    """

    id: str
    name: str
    issuer: str
    api_base: str
    client_id: str = "tpp"
    ca_path: str | None = None


def seed(store: Store, config: LabConfig) -> None:
    store.ensure_schema(SCHEMA)
    columns.add_missing(store, "tpp_institutions", MIGRATIONS)
    store.execute(
        "INSERT OR IGNORE INTO tpp_institutions(id, name, issuer, api_base, position) "
        "VALUES (?, ?, ?, ?, 0)", (DEFAULT_ID, "HonestBank", config.issuer, config.api_url))
    # Ports may change between starts (tests pick free ports): keep HonestBank current. With
    # opaque access tokens FinLens calls the bank's API through the gateway (docs/gateway.md).
    store.execute("UPDATE tpp_institutions SET issuer = ?, api_base = ? WHERE id = ?",
                  (config.issuer, config.api_url, DEFAULT_ID))


def add(store: Store, inst: Institution, position: int = 10) -> None:
    """Add or replace an institution (the attacker module's EvilBank entry, for one)."""
    store.execute(
        "INSERT OR REPLACE INTO tpp_institutions(id, name, issuer, api_base, position, "
        "client_id, ca_path) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (inst.id, inst.name, inst.issuer, inst.api_base, position, inst.client_id,
         inst.ca_path))
    forget_metadata()


def add_institution(store: Store, id: str, name: str, issuer: str, api_base: str,
                    client_id: str = "tpp", ca_path: str | None = None) -> Institution:
    """Point FinLens at an outside AS by its issuer URL; discovery tells the rest.

    The client must already be registered there (client_id, the TPP's public JWKS from
    keys/tpp.jwks.json, redirect URI <tpp>/callback). ca_path: that AS's CA bundle.
    """
    if not ID.match(id) or not issuer.startswith("https://"):
        raise ValueError("id: 1-32 of a-z 0-9 - _; issuer: an https URL (RFC 8414 §2)")
    # RFC 8414 §3.3: the issuer is compared as given, so it is stored as given.
    inst = Institution(id, name, issuer, api_base, client_id, ca_path)
    add(store, inst)
    return inst


def ca_for(default_ca: str, inst: Institution) -> str:
    """The CA bundle that verifies this institution's servers."""
    return inst.ca_path or default_ca


def all_institutions(store: Store) -> list[Institution]:
    rows = store.query(f"SELECT {COLUMNS} FROM tpp_institutions ORDER BY position, name")
    return [Institution(**r) for r in rows]


def get(store: Store, inst_id: object) -> Institution | None:
    if not isinstance(inst_id, str) or not inst_id or len(inst_id) > 64:
        return None
    row = store.query_one(f"SELECT {COLUMNS} FROM tpp_institutions WHERE id = ?",
                          (inst_id,))
    return Institution(**row) if row else None


def by_issuer(store: Store, issuer: object) -> Institution | None:
    if not isinstance(issuer, str) or not issuer:
        return None
    row = store.query_one(f"SELECT {COLUMNS} FROM tpp_institutions WHERE issuer = ? "
                          "ORDER BY position LIMIT 1", (issuer,))
    return Institution(**row) if row else None


def default(store: Store) -> Institution | None:
    return get(store, DEFAULT_ID) or next(iter(all_institutions(store)), None)


_cache: dict[str, tuple[float, str, dict[str, Any]]] = {}
_jwks: dict[str, JwksSource] = {}
_lock = threading.Lock()


def forget_metadata() -> None:
    with _lock:
        _cache.clear()
        _jwks.clear()


def metadata(inst: Institution, ca_path: str) -> dict[str, Any]:
    """The issuer's discovery document, fetched over TLS and cached for a few seconds.

    FAPI2 §5.3.3.1: metadata only from the issuer's own well-known location.
    """
    ca_path = ca_for(ca_path, inst)
    version = _switches_version()
    with _lock:
        hit = _cache.get(inst.issuer)
        if hit and hit[1] == version and time.monotonic() - hit[0] < METADATA_TTL:
            return hit[2]
    try:
        response = requests.get(inst.issuer.rstrip("/") + WELL_KNOWN, verify=ca_path,
                                timeout=10)
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("issuer"), str) \
            or not 0 < len(data["issuer"]) <= MAX_ISSUER \
            or not isinstance(data.get("authorization_endpoint"), str) \
            or not isinstance(data.get("token_endpoint"), str):
        raise InstitutionUnavailableError()
    _check_issuer(inst, data["issuer"])
    with _lock:
        _cache[inst.issuer] = (time.monotonic(), version, data)
    return data


def _check_issuer(inst: Institution, claimed: str) -> None:
    """RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the authorization
    server's issuer identifier value into which the well-known URI string was inserted ...
    If these values are not identical, the data contained in the response MUST NOT be used."
    (OIDC Discovery §4.3 likewise.) Part of tpp_checks_iss: the issuer FinLens compares a
    response's iss with (RFC 9207 §2: "identical to the ... metadata value issuer") is only
    worth something if the document naming it was fetched from that issuer. Weak mode: the
    document's issuer is believed, and the flow expects responses from it."""
    if claimed == inst.issuer:
        return
    if context.current_or_none() is not None and not CHECKS_ISS.on():
        return
    if context.current_or_none() is None:
        raise InstitutionUnavailableError()   # no request to attribute a refusal to
    raise CHECKS_ISS.refuse(DiscoveryIssuerMismatchError(),
                            reason=f"discovery at {inst.issuer} names issuer "
                                   f"{claimed[:200]!r} (RFC 8414 §3.3)")


def issuer_of(meta: dict[str, Any], inst: Institution) -> str:
    """The issuer a flow expects its response from: the metadata's (identical to the
    directory's unless tpp_checks_iss is off and the document lied)."""
    claimed = meta.get("issuer")
    return claimed if isinstance(claimed, str) and claimed else inst.issuer


def _switches_version() -> str:
    """The lab's switches as the cache sees them: a switched control (which changes the lab
    AS's metadata) shows in the very next flow, even from another process's CLI or attack."""
    ctx = context.current_or_none()
    if ctx is None:
        return ""
    return repr(ctx.store.get_setting(ENABLED_KEY)) + repr(ctx.store.get_setting(PARAMS_KEY))


def jwks(meta: dict[str, Any], ca_path: str) -> JwksSource:
    """The issuer's keys, only from its jwks_uri (OIDC §10.1), one cached source per URI."""
    uri = meta.get("jwks_uri")
    if not isinstance(uri, str):
        raise InstitutionUnavailableError()
    with _lock:
        source = _jwks.get(uri)
        if source is None:
            source = _jwks[uri] = JwksSource(uri, ca_path)
    return source
