"""Risk-based authentication: a transparent rules scorer over one sign-in.

PSD2 RTS Art. 2 asks the bank to watch for unusual sign-ins (a new device or location,
velocity, abnormal times); NIST SP 800-63B §5.2.2 lists risk signals. Each rule adds its
weight and says why; the total picks what the AS asks for next:

    below `mfa_at`        allow (the profile decides about a second factor)
    from `mfa_at`         a second factor, even where mfa_required is off
    from `confirm_at`     a confirmation on the customer's registered device (/lab/device)
    from `deny_at`        refused (access_denied)

With the parameter `scorer` = "learned" (the optional extra `risk`), an IsolationForest
trained on the customer's own completed sign-ins (`login_history`) picks which of these
signals are unusual for her (lab/domain/login_risk_learned.py); the thresholds stay.

The default weights and thresholds are chosen so an honest sign-in from the lab's own
address (127.0.0.1) never reaches a confirmation, whatever the hour and scope, and one from
an address the customer never used always does: verdicts do not depend on the time of day.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from lab import clock
from lab.controls import guard
from lab.domain import login_throttle
from lab.store.base import Store

RISK = guard("risk_based_auth")

SCHEMA = """
CREATE TABLE IF NOT EXISTS login_known (
    username TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- 'device' or 'address'
    value TEXT NOT NULL,
    PRIMARY KEY (username, kind, value)
);
CREATE TABLE IF NOT EXISTS login_history (
    username TEXT NOT NULL,               -- one completed sign-in, its signals at the time
    at REAL NOT NULL,
    new_device INTEGER NOT NULL,
    new_address INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    payment INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_history_user ON login_history(username, at);
CREATE TABLE IF NOT EXISTS login_assessments (
    pending_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    score INTEGER NOT NULL,
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL                 -- JSON list
);
CREATE TABLE IF NOT EXISTS login_confirmations (
    id TEXT PRIMARY KEY,
    pending_id TEXT NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    reasons TEXT NOT NULL,                -- JSON list
    asked_at REAL NOT NULL,
    answer TEXT                           -- NULL (waiting), 'approved', 'declined'
);
"""

# Rule weights: fixed and shown, so a participant can redo the sum.
NEW_DEVICE, NEW_ADDRESS, ODD_HOUR, VELOCITY, SENSITIVE = 1, 3, 1, 2, 1
VELOCITY_FAILURES = 3
SENSITIVE_WORDS = ("payments", "payment_initiation")
KEEP_HISTORY = 1000            # completed sign-ins kept per customer


@dataclass(frozen=True)
class SignIn:
    """What the AS knows about one sign-in attempt besides the credentials."""

    address: str
    device: str
    scope: str = ""
    details: str = ""          # authorization_details, as sent


@dataclass(frozen=True)
class Assessment:
    score: int
    decision: str              # allow, mfa, confirm, deny
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"risk {self.score} → {self.decision}: " + ("; ".join(self.reasons) or "nothing "
                                                          "unusual")


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _known(store: Store, username: str, kind: str, value: str) -> bool:
    return store.query_one("SELECT 1 AS x FROM login_known WHERE username = ? AND kind = ? "
                           "AND value = ?", (username, kind, value)) is not None


@dataclass(frozen=True)
class Signals:
    """What the rules weigh, and what the learned scorer's history keeps of each sign-in."""

    new_device: bool
    new_address: bool
    hour: int                  # UTC, lab clock
    failures: int              # consecutive failed attempts just before
    payment: bool


def signals(store: Store, username: str, sign_in: SignIn) -> Signals:
    ensure_schema(store)
    home = [str(a) for a in RISK.param("known_addresses", ["127.0.0.1"])]
    return Signals(
        new_device=not sign_in.device or not _known(store, username, "device", sign_in.device),
        new_address=sign_in.address not in home
        and not _known(store, username, "address", sign_in.address),
        hour=dt.datetime.fromtimestamp(clock.now(store), dt.UTC).hour,
        failures=login_throttle.consecutive_failures(store, username),
        payment=any(word in f"{sign_in.scope} {sign_in.details}" for word in SENSITIVE_WORDS))


def rules(sign_in: SignIn, sig: Signals) -> list[tuple[int, str]]:
    """The rules that apply, as (weight, reason); the learned scorer reuses their words."""
    found = []
    if sig.new_device:
        found.append((NEW_DEVICE, "a browser (device cookie) not seen with this account"))
    if sig.new_address:
        found.append((NEW_ADDRESS, f"a new address ({sign_in.address})"))
    start, end = (int(h) for h in RISK.param("odd_hours", [0, 5]))
    if start <= sig.hour < end:
        found.append((ODD_HOUR, f"an odd hour ({sig.hour:02d}h UTC, lab clock)"))
    if sig.failures >= VELOCITY_FAILURES:
        found.append((VELOCITY, f"{sig.failures} failed attempts on this account just before"))
    if sig.payment:
        found.append((SENSITIVE, "asks to initiate payments"))
    return found


def decide(score: int, reasons: list[str]) -> Assessment:
    """The control's thresholds, the same for either scorer."""
    decision = "allow"
    for name, default in (("mfa", 2), ("confirm", 4), ("deny", 6)):
        if score >= int(RISK.param(f"{name}_at", default)):
            decision = name
    return Assessment(score, decision, reasons)


def assess(store: Store, username: str, sign_in: SignIn) -> Assessment:
    """Score the sign-in with the chosen scorer; the thresholds are the control's parameters."""
    sig = signals(store, username, sign_in)
    note = ""
    if RISK.param("scorer", "rules") == "learned":
        from lab.domain import login_risk_learned  # optional extra: imported only when chosen

        learned, note = login_risk_learned.assess(store, username, sign_in, sig)
        if learned is not None:
            return learned
    found = rules(sign_in, sig)
    reasons = [f"+{weight} {reason}" for weight, reason in found]
    return decide(sum(weight for weight, _ in found), reasons + ([f"+0 {note}"] if note else []))


def record(store: Store, pending_id: str, username: str, assessment: Assessment) -> None:
    """Keep the assessment with the pending sign-in, for its next steps."""
    store.execute("INSERT OR REPLACE INTO login_assessments(pending_id, username, score, "
                  "decision, reasons) VALUES (?, ?, ?, ?, ?)",
                  (pending_id, username, assessment.score, assessment.decision,
                   json.dumps(assessment.reasons)))


def recorded(store: Store, pending_id: str) -> Assessment | None:
    ensure_schema(store)
    row = store.query_one("SELECT * FROM login_assessments WHERE pending_id = ?", (pending_id,))
    if row is None:
        return None
    return Assessment(int(row["score"]), str(row["decision"]), json.loads(row["reasons"]))


def remember(store: Store, username: str, sign_in: SignIn) -> None:
    """A completed sign-in: it joins her history (what the learned scorer trains on) and its
    device and address are known from now on."""
    sig = signals(store, username, sign_in)
    store.execute("INSERT INTO login_history(username, at, new_device, new_address, hour, "
                  "failures, payment) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (username[:100], clock.now(store), int(sig.new_device), int(sig.new_address),
                   sig.hour, min(sig.failures, 100), int(sig.payment)))
    # Bounded: only the newest KEEP_HISTORY sign-ins of a customer are kept.
    store.execute("DELETE FROM login_history WHERE username = ? AND at < (SELECT MIN(at) FROM "
                  "(SELECT at FROM login_history WHERE username = ? ORDER BY at DESC LIMIT ?))",
                  (username[:100], username[:100], KEEP_HISTORY))
    for kind, value in (("device", sign_in.device), ("address", sign_in.address)):
        if value:
            store.execute("INSERT OR IGNORE INTO login_known(username, kind, value) "
                          "VALUES (?, ?, ?)", (username, kind, value[:100]))


def ask_device(store: Store, pending_id: str, username: str, sign_in: SignIn,
               assessment: Assessment) -> str:
    ensure_schema(store)
    confirmation_id = "confirm-" + secrets.token_urlsafe(12)
    store.execute("INSERT INTO login_confirmations(id, pending_id, username, address, reasons, "
                  "asked_at) VALUES (?, ?, ?, ?, ?, ?)",
                  (confirmation_id, pending_id, username, sign_in.address[:100],
                   json.dumps(assessment.reasons), clock.now(store)))
    return confirmation_id


def answer_of(store: Store, pending_id: str) -> str | None:
    """'approved', 'declined', or None while the customer has not answered."""
    ensure_schema(store)
    row = store.query_one("SELECT answer FROM login_confirmations WHERE pending_id = ? "
                          "ORDER BY asked_at DESC LIMIT 1", (pending_id,))
    return row["answer"] if row else None


def waiting(store: Store, username: str, limit: int = 10) -> list[dict[str, Any]]:
    """What the customer's registered phone shows: the sign-ins waiting for her answer."""
    ensure_schema(store)
    rows = store.query("SELECT * FROM login_confirmations WHERE username = ? AND answer IS NULL "
                       "ORDER BY asked_at DESC LIMIT ?", (username, limit))
    return [{**r, "reasons": json.loads(r["reasons"])} for r in rows]


def answer(store: Store, confirmation_id: str, approve: bool) -> bool:
    """The customer answers on her phone, once."""
    ensure_schema(store)
    return store.consume("UPDATE login_confirmations SET answer = ? WHERE id = ? "
                         "AND answer IS NULL",
                         ("approved" if approve else "declined", confirmation_id[:100]))


def clear(store: Store) -> None:
    """Forget known devices, addresses, history and confirmations (an attack run starts from
    none)."""
    ensure_schema(store)
    with store.transaction():
        for table in ("login_known", "login_history", "login_assessments",
                      "login_confirmations"):
            store.execute(f"DELETE FROM {table}")
