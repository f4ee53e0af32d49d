"""The bank's books: accounts, a few months of plausible transactions, and payments.

Generated deterministically (a seeded PRNG per account) so every lab shows the
same amounts and payees; dates count back from the day the lab was first started.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
from dataclasses import dataclass
from typing import Any

from lab import clock
from lab.audit import trail
from lab.store.base import Store

from . import iban

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    iban TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    opening_balance TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    booked_on TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    description TEXT NOT NULL,
    counterparty TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_account ON transactions(account_id, booked_on);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    creditor_name TEXT NOT NULL,
    creditor_iban TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT NOT NULL,
    client_id TEXT,
    grant_id TEXT,
    created_at REAL NOT NULL,
    status TEXT NOT NULL
);
"""

HISTORY_DAYS = 120


@dataclass(frozen=True)
class AccountSpec:
    type: str
    name: str
    opening_cents: int


ACCOUNT_TYPES: tuple[AccountSpec, ...] = (
    AccountSpec("checking", "Everyday Checking", 245_000),
    AccountSpec("savings", "Rainy Day Savings", 1_250_000),
    AccountSpec("credit_card", "Platinum Credit Card", 0),
    AccountSpec("brokerage", "Index Fund Brokerage", 3_400_000),
)

# What each account type's history looks like: (description, counterparty, min, max cents, sign).
_PATTERNS: dict[str, tuple[tuple[str, str, int, int, int], ...]] = {
    "checking": (
        ("Groceries", "FreshMart", 1_200, 9_500, -1), ("Coffee", "Corner Café", 250, 650, -1),
        ("Train ticket", "Rail Co", 480, 3_200, -1),
        ("Dinner", "Trattoria Roma", 2_500, 8_000, -1),
        ("Pharmacy", "GoodHealth", 600, 3_000, -1), ("Books", "Page Turner", 900, 4_500, -1),
        ("Transfer from friend", "Sam Jones", 1_000, 6_000, 1),
    ),
    "savings": (("Monthly saving", "Own transfer", 20_000, 50_000, 1),
                ("Interest", "HonestBank", 100, 900, 1)),
    "credit_card": (
        ("Online shop", "ShopMore", 1_500, 25_000, -1),
        ("Flight", "SkyHigh Air", 9_000, 45_000, -1),
        ("Hotel", "Sleepwell", 8_000, 30_000, -1), ("Streaming", "FlixNet", 999, 1_599, -1),
        ("Card repayment", "HonestBank", 20_000, 60_000, 1),
    ),
    "brokerage": (("Fund purchase", "World Index ETF", 10_000, 50_000, 1),
                  ("Dividend", "World Index ETF", 500, 4_000, 1),
                  ("Platform fee", "HonestBank Invest", 300, 900, -1)),
}



def _rng(*parts: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")
    return random.Random(seed)


def account_id(owner: str, type_: str) -> str:
    return "acc-" + hashlib.sha256(f"{owner}:{type_}".encode()).hexdigest()[:12]


def _iban(owner: str, type_: str) -> str:
    """A GB IBAN (bank code HNST) whose check digits pass ISO 13616's mod-97 check."""
    digits = int(hashlib.sha256(f"iban:{owner}:{type_}".encode()).hexdigest(), 16) % 10**14
    return iban.make("GB", f"HNST{digits:014d}")


def _history(owner: str, type_: str, today: dt.date) -> list[tuple[dt.date, int, str, str]]:
    rng = _rng(owner, type_)
    rows: list[tuple[dt.date, int, str, str]] = []
    patterns = _PATTERNS[type_]
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if type_ == "checking" and day.day == 25:
            rows.append((day, 320_000, "Salary", "Acme Ltd"))
        if type_ == "checking" and day.day == 1:
            rows.append((day, -95_000, "Rent", "Home Lettings"))
        per_day = {"checking": 0.9, "credit_card": 0.35, "savings": 0.05, "brokerage": 0.06}[type_]
        if rng.random() < per_day:
            description, counterparty, low, high, sign = rng.choice(patterns)
            rows.append((day, sign * rng.randint(low, high), description, counterparty))
    return rows


def seed(store: Store, owners: list[str]) -> None:
    """Create each owner's four accounts and history once (idempotent)."""
    store.ensure_schema(SCHEMA)
    today = dt.datetime.fromtimestamp(clock.now(store), dt.UTC).date()
    with store.transaction():
        for owner in owners:
            for spec in ACCOUNT_TYPES:
                acc = account_id(owner, spec.type)
                created = store.execute(
                    "INSERT OR IGNORE INTO accounts(id, owner, type, name, iban, currency, "
                    "opening_balance) VALUES (?, ?, ?, ?, ?, 'EUR', ?)",
                    (acc, owner, spec.type, spec.name, _iban(owner, spec.type),
                     str(spec.opening_cents)))
                if not created:
                    # Labs made before the IBANs had real check digits get them now.
                    store.execute("UPDATE accounts SET iban = ? WHERE id = ? AND iban <> ?",
                                  (_iban(owner, spec.type), acc, _iban(owner, spec.type)))
                    continue
                for seq, (day, cents, description, counterparty) in enumerate(
                        _history(owner, spec.type, today)):
                    store.execute(
                        "INSERT INTO transactions(id, account_id, booked_on, amount_cents, "
                        "description, counterparty, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (f"tx-{acc[4:]}-{seq:04d}", acc, day.isoformat(), cents, description,
                         counterparty, seq))


def money(cents: int, currency: str = "EUR") -> dict[str, str]:
    sign = "-" if cents < 0 else ""
    return {"amount": f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}", "currency": currency}


def parse_amount(text: str) -> int:
    """'25.00' → 2500 cents; raises ValueError for anything else."""
    text = str(text).strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError("amount must look like 25.00")
    cents = int(whole) * 100 + int((frac + "00")[:2])
    if cents <= 0 or cents > 100_000_000:
        raise ValueError("amount out of range")
    return cents


def accounts_of(store: Store, owner: str) -> list[dict[str, Any]]:
    return store.query("SELECT id, owner, type, name, iban, currency FROM accounts "
                       "WHERE owner = ? ORDER BY rowid", (owner,))


def get_account(store: Store, acc_id: str) -> dict[str, Any] | None:
    return store.query_one("SELECT id, owner, type, name, iban, currency FROM accounts "
                           "WHERE id = ?", (acc_id,))


def balance_cents(store: Store, acc_id: str) -> int:
    row = store.query_one(
        "SELECT CAST(a.opening_balance AS INTEGER) + COALESCE(SUM(t.amount_cents), 0) AS bal "
        "FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id WHERE a.id = ?",
        (acc_id,))
    return int(row["bal"]) if row and row["bal"] is not None else 0


def transactions(store: Store, acc_id: str, *, from_date: str | None = None,
                 to_date: str | None = None, offset: int = 0, limit: int = 50
                 ) -> tuple[list[dict[str, Any]], int]:
    """Newest first, filtered by booking date (inclusive ISO dates); returns (page, total)."""
    where, params = ["account_id = ?"], [acc_id]
    if from_date:
        where.append("booked_on >= ?")
        params.append(from_date)
    if to_date:
        where.append("booked_on <= ?")
        params.append(to_date)
    clause = " AND ".join(where)
    total_row = store.query_one(f"SELECT COUNT(*) AS n FROM transactions WHERE {clause}", params)
    rows = store.query(
        f"SELECT id, booked_on, amount_cents, description, counterparty FROM transactions "
        f"WHERE {clause} ORDER BY booked_on DESC, seq DESC LIMIT ? OFFSET ?",
        (*params, limit, offset))
    return rows, int(total_row["n"]) if total_row else 0


def make_payment(store: Store, *, account: dict[str, Any], creditor_name: str,
                 creditor_iban: str, amount_cents: int, reference: str,
                 client_id: str | None, grant_id: str | None) -> dict[str, Any]:
    """Book a payment and its debit transaction in one transaction."""
    now = clock.now(store)
    # Random: two equal payments in the same instant (no binding, no idempotency key) are two.
    payment_id = "pmt-" + secrets.token_hex(8)
    today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
    with store.transaction():
        store.execute(
            "INSERT INTO payments(id, account_id, creditor_name, creditor_iban, amount_cents, "
            "currency, reference, client_id, grant_id, created_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked')",
            (payment_id, account["id"], creditor_name, creditor_iban, amount_cents,
             account["currency"], reference, client_id, grant_id, now))
        seq_row = store.query_one("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM transactions "
                                  "WHERE account_id = ?", (account["id"],))
        store.execute(
            "INSERT INTO transactions(id, account_id, booked_on, amount_cents, description, "
            "counterparty, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"tx-{payment_id}", account["id"], today, -amount_cents,
             reference or "Payment", creditor_name, seq_row["s"] if seq_row else 1))
        _credit_if_ours(store, payment_id, today, account, creditor_iban, amount_cents,
                        reference)
    trail.append(store, "payment", {
        "payment_id": payment_id, "account_id": account["id"], "creditor_name": creditor_name,
        "creditor_iban": creditor_iban, "amount_cents": amount_cents,
        "currency": account["currency"], "reference": reference, "client_id": client_id,
        "grant_id": grant_id})
    return {"payment_id": payment_id, "status": "booked", "account_id": account["id"],
            "creditor": {"name": creditor_name, "iban": creditor_iban},
            "instructed_amount": money(amount_cents, account["currency"]),
            "reference": reference}


def _credit_if_ours(store: Store, payment_id: str, today: str, debtor: dict[str, Any],
                    creditor_iban: str, amount_cents: int, reference: str) -> None:
    """A payment to another HonestBank account is booked on both sides, in the same
    transaction as the debit (a payee elsewhere is credited by the other bank)."""
    creditor = store.query_one("SELECT id, owner FROM accounts WHERE iban = ?", (creditor_iban,))
    if creditor is None or creditor["id"] == debtor["id"]:
        return
    seq_row = store.query_one("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM transactions "
                              "WHERE account_id = ?", (creditor["id"],))
    store.execute(
        "INSERT INTO transactions(id, account_id, booked_on, amount_cents, description, "
        "counterparty, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (f"tx-{payment_id}-cr", creditor["id"], today, amount_cents, reference or "Payment",
         debtor["owner"], seq_row["s"] if seq_row else 1))
