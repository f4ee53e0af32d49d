"""Payment consents: RFC 9396 `payment_initiation` authorization details, checked and kept.

The AS parses what the client asked for (PAR or the authorization request), shows it on
the consent page, and stores it with the grant together with the account the user chose
to pay from. The bank compares a payment with it (payment_consent_binding) and uses it
up once: one conditional UPDATE (and with Redis one SET NX) decides, so 20 parallel
submissions move money once.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from lab import clock
from lab.store.base import Once, Store, once_key

from . import consent, iban, ledger

TYPE = "payment_initiation"
MAX_BYTES = 4096          # the whole authorization_details value
MAX_NAME, MAX_REMITTANCE = 70, 140  # ISO 20022 Max70Text / Max140Text
# RFC 9396 §2.2 common fields, and the payment_initiation fields of RFC 9396 §2's example.
COMMON = {"type", "locations", "actions", "datatypes", "identifier", "privileges"}
FIELDS = COMMON | {"instructedAmount", "creditorName", "creditorAccount",
                   "remittanceInformationUnstructured"}
AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
CONSENT_TTL = 400 * 86400.0  # a payment consent's use is remembered for as long as a grant

SCHEMA = """
CREATE TABLE IF NOT EXISTS payment_consents (
    grant_id TEXT PRIMARY KEY,
    details TEXT NOT NULL,                -- JSON, the granted authorization_details
    debtor_account_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    creditor_name TEXT NOT NULL,
    creditor_iban TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at REAL NOT NULL,
    used_at REAL
);
"""


class DetailsError(ValueError):
    """RFC 9396 §5: the value is refused with invalid_authorization_details. The message is
    constant ASCII naming the rule it broke (never echoing input): it is the description."""


@dataclass(frozen=True)
class Payment:
    """One consented payment: what the bank will compare a POST /payments with."""

    amount_cents: int
    currency: str
    creditor_name: str
    creditor_iban: str
    reference: str

    def amount_text(self) -> str:
        return ledger.money(self.amount_cents, self.currency)["amount"]

    def as_detail(self, debtor: dict[str, Any] | None = None) -> dict[str, Any]:
        """The RFC 9396 object; with the debtor account the AS adds what the user chose."""
        detail: dict[str, Any] = {
            "type": TYPE,
            "instructedAmount": {"amount": self.amount_text(), "currency": self.currency},
            "creditorName": self.creditor_name, "creditorAccount": {"iban": self.creditor_iban},
            "remittanceInformationUnstructured": self.reference}
        if debtor is not None:
            detail["debtorAccount"] = {"iban": debtor["iban"], "account_id": debtor["id"]}
        return detail


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _text(value: object, limit: int, what: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit \
            or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise DetailsError(f"{what} must be text of 1 to {limit} printable characters")
    return value.strip()


def parse_amount(value: object) -> int:
    """A decimal string ("25.00"), more than zero; numbers, exponents, signs are refused."""
    if not isinstance(value, str) or not AMOUNT.fullmatch(value):
        raise DetailsError("instructedAmount.amount must be a decimal string such as 25.00")
    try:
        return ledger.parse_amount(value)
    except ValueError:
        raise DetailsError("instructedAmount.amount must be more than zero") from None


def parse_iban(value: object, what: str = "creditorAccount.iban") -> str:
    if not isinstance(value, str) or len(value) > 42:
        raise DetailsError(f"{what} must be an IBAN")
    number = iban.normalise(value)
    if not iban.SHAPE.fullmatch(number):
        raise DetailsError(f"{what} is not shaped like an IBAN")
    if not iban.valid(number):
        raise DetailsError(f"{what} fails the ISO 13616 mod-97 check")
    return number


def _payment(item: dict[str, Any]) -> Payment:
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise DetailsError("a payment_initiation object has a field not defined for it")
    amount, account = item.get("instructedAmount"), item.get("creditorAccount")
    if not isinstance(amount, dict) or set(amount) != {"amount", "currency"}:
        raise DetailsError("instructedAmount must be an object with amount and currency")
    if not isinstance(account, dict) or set(account) != {"iban"}:
        raise DetailsError("creditorAccount must be an object with an iban")
    currency = amount["currency"]
    if not isinstance(currency, str) or not iban.currency_known(currency):
        raise DetailsError("instructedAmount.currency is not an ISO 4217 code")
    return Payment(amount_cents=parse_amount(amount["amount"]), currency=currency,
                   creditor_name=_text(item.get("creditorName"), MAX_NAME, "creditorName"),
                   creditor_iban=parse_iban(account["iban"]),
                   reference=_text(item.get("remittanceInformationUnstructured"),
                                   MAX_REMITTANCE, "remittanceInformationUnstructured",
                                   required=False))


def parse(raw: str) -> Payment:
    """RFC 9396 §2: a JSON array of objects with a `type`. The lab knows one type and binds
    one payment per consent. Raises DetailsError (RFC 9396 §5) for anything else."""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DetailsError(f"authorization_details is longer than {MAX_BYTES} bytes")
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):
        raise DetailsError("authorization_details is not JSON") from None
    if not isinstance(items, list) or not items or \
            not all(isinstance(i, dict) for i in items):
        raise DetailsError("authorization_details must be a JSON array of objects")
    types = [i.get("type") for i in items]
    unknown = [t for t in types if t != TYPE]
    if unknown:
        raise DetailsError("unknown authorization details type")
    if len(items) > 1:
        raise DetailsError("one payment_initiation per consent")
    return _payment(items[0])


def payable_from(store: Store, username: str, payment: Payment) -> list[dict[str, Any]]:
    """The user's accounts this payment may leave: same currency, not the payee itself."""
    return [a for a in ledger.accounts_of(store, username)
            if a["currency"] == payment.currency and a["iban"] != payment.creditor_iban]


def record(store: Store, grant_id: str, payment: Payment, debtor: dict[str, Any]) -> None:
    store.execute(
        "INSERT INTO payment_consents(grant_id, details, debtor_account_id, amount_cents, "
        "currency, creditor_name, creditor_iban, reference, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (grant_id, json.dumps([payment.as_detail(debtor)]), debtor["id"],
         payment.amount_cents, payment.currency, payment.creditor_name,
         payment.creditor_iban, payment.reference, clock.now(store)))


# The user's active account-access grants to a client (accounts named, not a payment
# consent: one payment, never amended), newest first; rowid orders links made in one tick.
# consent.create_grant, the one writer, stores json.dumps of a dict: no accounts is '{}'.
_ACCOUNT_GRANTS = ("FROM grants g WHERE g.username = ? AND g.client_id = ? AND "
                   "g.revoked_at IS NULL AND g.accounts <> '{}' AND "
                   "NOT EXISTS (SELECT 1 FROM payment_consents p WHERE p.grant_id = g.id)")
_NEWEST_FIRST = " ORDER BY g.created_at DESC, g.rowid DESC"


def account_grants(store: Store, username: str, client_id: str, *, limit: int | None = None,
                   older_than: str | None = None) -> list[dict[str, Any]]:
    """The user's active account-access grants to this client, newest first: what a consent
    amendment may replace (a payment consent is one payment, never amended). `limit`: only
    the newest so many (the consent page's, however often she linked); `older_than`: only
    those made before that grant of hers to this client (none if it is not one)."""
    sql = "SELECT g.* " + _ACCOUNT_GRANTS
    params: list[object] = [username, client_id]
    if older_than is not None:
        sql += (" AND (g.created_at, g.rowid) < (SELECT created_at, rowid FROM grants "
                "WHERE id = ? AND username = ? AND client_id = ?)")
        params += [older_than, username, client_id]
    sql += _NEWEST_FIRST
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(limit, 0))
    rows = (consent.decode(r) for r in store.query(sql, tuple(params)))
    return [g for g in rows if g]


def count_account_grants(store: Store, username: str, client_id: str) -> int:
    row = store.query_one("SELECT COUNT(*) AS n " + _ACCOUNT_GRANTS, (username, client_id))
    return int(row["n"]) if row else 0


def account_grant_ids(store: Store, username: str, client_id: str,
                      ids: list[str]) -> list[str]:
    """Of `ids`, in their order, those that are her active account grants to this client."""
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = store.query(f"SELECT g.id {_ACCOUNT_GRANTS} AND g.id IN ({marks})",
                       (username, client_id, *ids))
    found = {r["id"] for r in rows}
    return [i for i in ids if i in found]


def of_grant(store: Store, grant_id: str | None) -> dict[str, Any] | None:
    if not grant_id:
        return None
    row = store.query_one("SELECT * FROM payment_consents WHERE grant_id = ?", (grant_id,))
    if row is not None:
        row["details"] = json.loads(row["details"])
    return row


def granted_details(store: Store, grant_id: str | None) -> list[dict[str, Any]] | None:
    """RFC 9396 §7, §9: what the token response, the access token and introspection carry."""
    row = of_grant(store, grant_id)
    return row["details"] if row else None


def differences(consent: dict[str, Any], *, debtor_account_id: str, amount_cents: int,
                currency: str, creditor_name: str, creditor_iban: str) -> list[str]:
    """Which consented terms a payment changes (empty: it is the consented payment)."""
    sent = {"debtor account": debtor_account_id, "amount": amount_cents, "currency": currency,
            "creditor name": creditor_name, "creditor IBAN": creditor_iban}
    kept = {"debtor account": consent["debtor_account_id"],
            "amount": consent["amount_cents"], "currency": consent["currency"],
            "creditor name": consent["creditor_name"],
            "creditor IBAN": consent["creditor_iban"]}
    return [name for name in sent if sent[name] != kept[name]]


def use(store: Store, grant_id: str) -> bool:
    """Spend the consent: True for exactly one caller, in any process on any host."""
    return store.consume("UPDATE payment_consents SET used_at = ? WHERE grant_id = ? "
                         "AND used_at IS NULL", (clock.now(store), grant_id),
                         once=Once("payment_consent", once_key(grant_id), CONSENT_TTL))


def as_dict(payment: Payment) -> dict[str, Any]:
    return asdict(payment)
