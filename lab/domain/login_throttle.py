"""Login throttling: consecutive failures per account, failures per source address.

NIST SP 800-63B §5.2.2 asks the verifier to limit consecutive failed attempts on one
account; PSD2 RTS Art. 4 asks for at most five before a lock. An address that sprays many
accounts never reaches five on any one of them, so it is slowed, then refused, on its own
count. The state lives in the store on the lab clock: every worker sees the same count, and
`fapi-lab clock advance` ends a lockout without waiting.

Hand-written rather than `limits` / flask-limiter: their windows live in memory, Redis,
Memcached, MongoDB or etcd and are measured with the machine's own time, neither the lab's
SQLite store nor its clock; and a lockout is a per-account state, not a rate window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab import clock
from lab.controls import guard
from lab.domain import customers
from lab.store.base import Store

THROTTLE = guard("login_throttling")

SCHEMA = """
CREATE TABLE IF NOT EXISTS login_accounts (
    username TEXT PRIMARY KEY,            -- a known customer only: no row per guessed name
    failures INTEGER NOT NULL DEFAULT 0,  -- consecutive, password or second factor
    locked_until REAL
);
CREATE TABLE IF NOT EXISTS login_address_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    username TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_address_failures_at ON login_address_failures(address, at);
"""


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is not even checked, and when to come back (whole seconds, ≥ 1)."""

    reason: str
    message: str
    retry_after: int


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _seconds(until: float, now: float) -> int:
    return max(1, math.ceil(until - now))


def _when(at: float) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%H:%M:%S UTC")


def _address_refusal(store: Store, address: str, now: float) -> Refusal | None:
    window = float(THROTTLE.param("address_window", 600))
    store.execute("DELETE FROM login_address_failures WHERE at < ?", (now - window,))
    row = store.query_one("SELECT COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last FROM "
                          "login_address_failures WHERE address = ?", (address,)) or {}
    n = int(row.get("n") or 0)
    if n >= int(THROTTLE.param("address_limit", 30)):
        until = float(row["first"]) + window
        return Refusal(f"{address} refused: {n} failed sign-ins in {int(window)} s",
                       "Too many failed sign-ins from your network. Try again at "
                       f"{_when(until)}.", _seconds(until, now))
    interval = float(THROTTLE.param("address_interval", 10))
    if n >= int(THROTTLE.param("address_slow_after", 10)) and now - float(row["last"]) < interval:
        until = float(row["last"]) + interval
        return Refusal(f"{address} slowed: {n} failed sign-ins, one attempt per "
                       f"{int(interval)} s", "Too many failed sign-ins from your network. "
                       f"Wait {_seconds(until, now)} s.", _seconds(until, now))
    return None


def attempt(store: Store, username: str, address: str) -> Refusal | None:
    """Before a password or code is checked: refuse it (locked account, busy address), or
    count it as a failure until `succeeded` says otherwise. Counting first keeps parallel
    guesses at the limit too: the conditional UPDATE's row count decides, in every worker."""
    ensure_schema(store)
    now = clock.now(store)
    on = THROTTLE.on()
    if on and (refusal := _address_refusal(store, address, now)):
        return refusal
    if customers.get(store, username) is None:
        return None
    most = int(THROTTLE.param("max_failures", 5)) if on else 1 << 30
    with store.transaction():
        store.execute("INSERT OR IGNORE INTO login_accounts(username) VALUES (?)", (username,))
        store.execute("UPDATE login_accounts SET failures = 0, locked_until = NULL "
                      "WHERE username = ? AND locked_until <= ?", (username, now))
        # Off, failures are still counted (risk_based_auth reads them as velocity).
        if store.consume("UPDATE login_accounts SET failures = failures + 1 WHERE username = ? "
                         "AND failures < ? AND (locked_until IS NULL OR ? = 0)",
                         (username, most, int(on))):
            return None
        _lock(store, username, now)
        row = store.query_one("SELECT locked_until FROM login_accounts WHERE username = ?",
                              (username,))
    until = float((row or {}).get("locked_until") or now)
    return Refusal(f"{username} locked until {_when(until)} after {most} consecutive failures",
                   f"This account is locked after {most} failed attempts. It unlocks at "
                   f"{_when(until)}.", _seconds(until, now))


def _lock(store: Store, username: str, now: float) -> None:
    """Lock the account, and void the codes sent to it (a guessed code must not outlive it)."""
    until = now + float(THROTTLE.param("lockout_seconds", 900))
    if store.consume("UPDATE login_accounts SET locked_until = ? WHERE username = ? "
                     "AND locked_until IS NULL", (until, username)):
        customers.void_sms_codes(store, username)


def failed(store: Store, username: str, address: str) -> Refusal | None:
    """The attempt was wrong: count it for the address; the account's count is already up.
    Returns the lockout this failure started, if it did."""
    now = clock.now(store)
    if not THROTTLE.on():
        return None
    store.insert("INSERT INTO login_address_failures(address, username, at) VALUES (?, ?, ?)",
                 (address[:100], username[:100], now))
    most = int(THROTTLE.param("max_failures", 5))
    row = store.query_one("SELECT failures, locked_until FROM login_accounts WHERE username = ?",
                          (username,))
    if row is None or int(row["failures"]) < most:
        return None
    _lock(store, username, now)
    return attempt(store, username, address)


def passed(store: Store, username: str, *, complete: bool) -> None:
    """A right password or code. `complete`: the whole sign-in succeeded, which ends the run of
    failures; a right password before a second factor only takes back its own count."""
    if complete:
        store.execute("UPDATE login_accounts SET failures = 0, locked_until = NULL "
                      "WHERE username = ?", (username,))
    else:
        store.execute("UPDATE login_accounts SET failures = MAX(failures - 1, 0) "
                      "WHERE username = ?", (username,))


def consecutive_failures(store: Store, username: str) -> int:
    """What risk-based authentication reads as velocity (whether or not throttling is on)."""
    ensure_schema(store)
    row = store.query_one("SELECT failures FROM login_accounts WHERE username = ?", (username,))
    return int(row["failures"]) if row else 0


def clear(store: Store) -> None:
    """Forget every count and lockout (an attack run starts from none)."""
    ensure_schema(store)
    with store.transaction():
        store.execute("DELETE FROM login_accounts")
        store.execute("DELETE FROM login_address_failures")
