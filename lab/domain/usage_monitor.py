"""Token usage monitoring: each token family watched against its own established use.

A family is one grant's access and refresh tokens. The first use at the bank sets the
family's baseline (source address, user agent, DPoP key or client certificate); every
later use is compared with it. A change raises an alert, an event that says what changed
(RTS Art. 2: transaction monitoring that detects unusual use). Each kind of change weighs
what the control's parameters say; once the family's score reaches `threshold`, the AS side
of the bank revokes the whole family (FAPI2 §6.8: a compromised key is out of FAPI's model,
only noticing the use is left) and the request that tipped it is refused.

Everything counts on the lab clock and in the store: the rate is requests per lab-clock
window, so a verdict never waits on a sleep and every worker sees the same counts. Kept
below the web layer: the bank hands it a `Use`, it answers a `Verdict`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from lab import clock
from lab.controls import guard
from lab.domain import consent, refresh_tokens, revocation
from lab.store.base import Store

MONITOR = guard("token_usage_monitoring")

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_families (
    grant_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    client_id TEXT NOT NULL,
    address TEXT NOT NULL,                -- the baseline: the family's first use
    user_agent TEXT NOT NULL,
    key TEXT NOT NULL,
    first_seen REAL NOT NULL,
    seen TEXT NOT NULL DEFAULT '{}',      -- JSON {kind: [values alerted on]}
    score INTEGER NOT NULL DEFAULT 0,
    first_alert_at REAL,
    revoked_at REAL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS usage_families_user ON usage_families(username);
CREATE TABLE IF NOT EXISTS usage_windows (
    grant_id TEXT NOT NULL,
    window INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (grant_id, window)
);
CREATE TABLE IF NOT EXISTS usage_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    score INTEGER NOT NULL,
    at REAL NOT NULL,
    request_id TEXT
);
CREATE INDEX IF NOT EXISTS usage_alerts_grant ON usage_alerts(grant_id);
"""

KINDS = ("address", "user_agent", "key", "rate", "probe")
DEFAULT_WEIGHTS = {"address": 40, "user_agent": 30, "key": 60, "rate": 30, "probe": 40}
WORDS = {"address": "source address", "user_agent": "user agent", "key": "proof key",
         "rate": "request rate", "probe": "unconsented account"}
MAX_VALUES = 20          # distinct values remembered per kind: bounded whatever the attacker sends
MAX_FIELD = 200


@dataclass(frozen=True)
class Use:
    """One use of a token family at the bank, as the bank saw it."""

    grant_id: str
    username: str
    client_id: str
    address: str
    user_agent: str
    key: str                         # "dpop:<jkt>", "cert:<x5t#S256>", or "" for a bearer token
    account_id: str | None = None    # the account the request is about, if any
    consented: bool = True           # whether the grant shares that account
    request_id: str | None = None


@dataclass(frozen=True)
class Verdict:
    refuse: bool
    reason: str = ""
    revoked_now: bool = False      # this use tipped it: tell the app (a SET) once
    because: str = ""              # the customer's words


ALLOW = Verdict(False)


@dataclass(frozen=True)
class Change:
    kind: str
    value: str
    detail: str


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _clip(value: str) -> str:
    return value[:MAX_FIELD]


def weights() -> dict[str, int]:
    """The run-time weights (parameter `weights`); a bad entry counts as the default."""
    given = MONITOR.param("weights", DEFAULT_WEIGHTS)
    given = given if isinstance(given, dict) else {}
    out = {}
    for kind in KINDS:
        try:
            out[kind] = int(given.get(kind, DEFAULT_WEIGHTS[kind]))
        except (TypeError, ValueError):
            out[kind] = DEFAULT_WEIGHTS[kind]
    return out


def _number(name: str, default: float) -> float:
    try:
        value = float(MONITOR.param(name, default))
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) and value > 0 else default


def _changes(row: dict[str, Any], use: Use) -> list[Change]:
    changes = []
    for kind, now in (("address", use.address), ("user_agent", use.user_agent),
                      ("key", use.key)):
        before = row[kind]
        if _clip(now) != before:
            changes.append(Change(kind, _clip(now),
                                  f"{WORDS[kind]} {before or 'none'!r} → {_clip(now) or 'none'!r}"))
    if use.account_id is not None and not use.consented:
        changes.append(Change("probe", _clip(use.account_id),
                              f"asked for account {_clip(use.account_id)!r} the grant does "
                              "not share"))
    return changes


def _rate(store: Store, use: Use, now: float) -> Change | None:
    """Requests in the current lab-clock window; over `rate_limit` is an alert."""
    span = _number("rate_window", 1)
    limit = int(_number("rate_limit", 15))
    window = int(now // span)
    store.execute("DELETE FROM usage_windows WHERE grant_id = ? AND window < ?",
                  (use.grant_id, window))
    store.execute("INSERT INTO usage_windows(grant_id, window, n) VALUES (?, ?, 1) "
                  "ON CONFLICT(grant_id, window) DO UPDATE SET n = n + 1", (use.grant_id, window))
    row = store.query_one("SELECT n FROM usage_windows WHERE grant_id = ? AND window = ?",
                          (use.grant_id, window)) or {"n": 0}
    n = int(row["n"])
    if n <= limit:
        return None
    return Change("rate", "", f"{n} requests in {span:g} lab-clock s (limit {limit})")


def observe(store: Store, use: Use) -> Verdict:
    """Compare this use with the family's baseline; alert, and revoke past the threshold."""
    if not MONITOR.on():
        return ALLOW
    now = clock.now(store)
    with store.transaction():
        row = store.query_one("SELECT * FROM usage_families WHERE grant_id = ?", (use.grant_id,))
        if row is None:
            store.execute(
                "INSERT INTO usage_families(grant_id, username, client_id, address, user_agent, "
                "key, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(grant_id) DO NOTHING",
                (use.grant_id, use.username, use.client_id, _clip(use.address),
                 _clip(use.user_agent), _clip(use.key), now))
            row = store.query_one("SELECT * FROM usage_families WHERE grant_id = ?",
                                  (use.grant_id,)) or {}
        if row.get("revoked_at") is not None:
            return Verdict(True, f"family of grant {use.grant_id} was revoked by monitoring: "
                                 f"{row.get('reason')}")
        changes = _changes(row, use)
        rate = _rate(store, use, now)
        if rate is not None:
            changes.append(rate)
        if not changes:
            return ALLOW
        return _score(store, row, use, changes, now)


def _score(store: Store, row: dict[str, Any], use: Use, changes: list[Change],
           now: float) -> Verdict:
    seen: dict[str, list[str]] = json.loads(row.get("seen") or "{}")
    weight = weights()
    fresh = []
    for change in changes:
        values = seen.setdefault(change.kind, [])
        if change.value in values or len(values) >= MAX_VALUES:
            continue   # one alert per new value: a steady change is one alert, not a flood
        values.append(change.value)
        fresh.append(change)
    score = sum(weight[k] for k in seen if k in weight and seen[k])
    for change in fresh:
        reason = f"alert: {change.detail} (family score {score})"
        MONITOR.alert(reason)
        store.insert("INSERT INTO usage_alerts(grant_id, kind, detail, score, at, request_id) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (use.grant_id, change.kind, change.detail, score, now, use.request_id))
    store.execute("UPDATE usage_families SET seen = ?, score = ?, first_alert_at = "
                  "COALESCE(first_alert_at, ?) WHERE grant_id = ?",
                  (json.dumps(seen), score, now if fresh else None, use.grant_id))
    threshold = _number("threshold", 60)
    if score < threshold:
        return ALLOW
    what = "; ".join(f"{WORDS[k]} changed" if k not in ("rate", "probe") else
                     (f"{WORDS[k]} too high" if k == "rate" else "probes of accounts it was "
                      "not given") for k in KINDS if seen.get(k))
    reason = f"score {score} ≥ {threshold:g}: {what}"
    revoke_family(store, use.grant_id, reason, now)
    return Verdict(True, f"family of grant {use.grant_id} revoked: {reason}", revoked_now=True,
                   because=because({"seen": json.dumps(seen)}))


def revoke_family(store: Store, grant_id: str, reason: str, now: float) -> None:
    """The AS's part: the grant, its refresh tokens and its access tokens all end, whatever
    revocation_cascade says (the monitor's decision is about the family, not the grant)."""
    store.execute("UPDATE usage_families SET revoked_at = ?, reason = ? WHERE grant_id = ? "
                  "AND revoked_at IS NULL", (now, reason, grant_id))
    revocation.revoke_grant(store, grant_id)
    refresh_tokens.revoke_of_grant(store, grant_id)
    consent.revoke_access_tokens_of_grant(store, grant_id)


CUSTOMER_WORDS = {
    "address": "from a network it had never used ({values})",
    "user_agent": "by a different program",
    "key": "with a different key or certificate",
    "rate": "far more often than usual",
    "probe": "to ask for accounts you had not shared",
}


def because(family_row: dict[str, Any]) -> str:
    """Why, in the customer's words: "its access was used from a network … and by …"."""
    seen: dict[str, list[str]] = json.loads(family_row.get("seen") or "{}")
    parts = [CUSTOMER_WORDS[k].format(values=", ".join(seen[k][:3]))
             for k in KINDS if seen.get(k)]
    if not parts:
        return "its access was used in an unusual way"
    said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"its access was used {said}"


def stopped(store: Store, username: str) -> list[dict[str, Any]]:
    """The families monitoring stopped for this customer, newest first, each with `because`
    (her connected-apps page says why)."""
    rows = store.query("SELECT grant_id, client_id, revoked_at, reason, seen, first_seen, "
                       "first_alert_at FROM usage_families WHERE username = ? AND revoked_at "
                       "IS NOT NULL ORDER BY revoked_at DESC", (username,))
    return [{**row, "because": because(row)} for row in rows]


def family(store: Store, grant_id: str) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM usage_families WHERE grant_id = ?", (grant_id,))


def alerts(store: Store, grant_id: str) -> list[dict[str, Any]]:
    return store.query("SELECT kind, detail, score, at, request_id FROM usage_alerts "
                       "WHERE grant_id = ? ORDER BY id", (grant_id,))
