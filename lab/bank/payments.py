"""The POST /payments body: parsed and validated into plain values before any money moves."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lab.domain import iban, ledger
from lab.protocol.resource_errors import InvalidRequestError

IBAN = iban.SHAPE   # ISO 13616: country code, two check digits, up to 30 alphanumerics
MAX_NAME = 70  # ISO 20022 Max70Text
MAX_REFERENCE = 140  # ISO 20022 Max140Text
MAX_ID = 64


@dataclass(frozen=True)
class PaymentRequest:
    debtor_account_id: str
    creditor_name: str
    creditor_iban: str
    amount_cents: int
    currency: str
    reference: str


def _bad(description: str) -> InvalidRequestError:
    return InvalidRequestError(description)


def _text(value: Any, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise _bad("A text field is missing, empty or too long.")
    if any(ord(c) < 32 for c in value):
        raise _bad("A text field is missing, empty or too long.")
    return value.strip()


def parse_body(mimetype: str, raw: bytes) -> dict[str, Any]:
    """The JSON object in the body; anything else is the client's error, never a crash."""
    if mimetype != "application/json":
        raise _bad("The body must be a JSON object (Content-Type: application/json).")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad("The body must be a JSON object (Content-Type: application/json).") from None
    if not isinstance(data, dict):
        raise _bad("The body must be a JSON object (Content-Type: application/json).")
    return data


def parse_payment(data: dict[str, Any]) -> PaymentRequest:
    creditor = data.get("creditor")
    amount = data.get("instructed_amount")
    if not isinstance(creditor, dict) or not isinstance(amount, dict):
        raise _bad("creditor and instructed_amount must be JSON objects.")
    number = iban.normalise(_text(creditor.get("iban"), 40))
    if not IBAN.fullmatch(number):
        raise _bad("creditor.iban is not an IBAN.")
    # ISO 13616 §6 / ISO 7064 MOD 97-10: a mistyped IBAN fails its check digits.
    if not iban.valid(number):
        raise _bad("creditor.iban fails the IBAN check digits (ISO 13616 mod 97).")
    value = amount.get("amount")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad("instructed_amount.amount must look like 25.00.")
    try:
        cents = ledger.parse_amount(str(value))
    except ValueError:
        raise _bad("instructed_amount.amount must look like 25.00.") from None
    currency = _text(amount.get("currency"), 3)
    if not re.fullmatch(r"[A-Z]{3}", currency) or not iban.currency_known(currency):
        raise _bad("instructed_amount.currency must be an ISO 4217 code.")
    return PaymentRequest(
        debtor_account_id=_text(data.get("debtor_account_id"), MAX_ID),
        creditor_name=_text(creditor.get("name"), MAX_NAME),
        creditor_iban=number, amount_cents=cents, currency=currency,
        reference=_text(data.get("reference"), MAX_REFERENCE, required=False),
    )


def check_account(order: PaymentRequest, account: dict[str, Any]) -> None:
    """What only the debtor account can tell: its currency, and that it is not the payee."""
    if order.currency != account["currency"]:
        raise _bad("instructed_amount.currency must be the account's currency.")
    if order.creditor_iban == account["iban"]:
        raise _bad("The creditor is the debtor account itself.")
