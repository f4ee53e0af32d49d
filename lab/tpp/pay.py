"""FinLens "Pay": a payment consent asked for with RFC 9396 authorization_details, then the
payment submitted once with the token that consent gave.

No Flask here. The payment waits in `tpp_payments` (keyed by the flow's state) while the
customer is at the bank; the callback finds it, posts it once with an Idempotency-Key (a
retry after a lost answer gets the first result, not a second payment) and keeps the
bank's answer for the status page. The body is built from the granted details, never from
what the browser sends afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from lab import clock, context
from lab.config import LabConfig
from lab.domain import iban
from lab.store.base import Store

from . import bank_api, client
from .errors import TppError
from .institutions import Institution

SCOPE = "openid payments:write"
AMOUNT = re.compile(r"[0-9]{1,7}(\.[0-9]{2})?")


@dataclass(frozen=True)
class Payee:
    name: str
    iban: str


# The demo payee: a café with a (made-up) German IBAN whose check digits are right.
PAYEES: dict[str, Payee] = {
    "corner-cafe": Payee("Corner Café", iban.make("DE", "10010010" + "0025002500")),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS tpp_payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    state TEXT NOT NULL UNIQUE,           -- the authorization request's state
    details TEXT NOT NULL,                -- JSON, the authorization_details asked for
    status TEXT NOT NULL,                 -- awaiting-consent, booked, refused
    access_token TEXT,
    token_type TEXT,
    bank_status INTEGER,
    answer TEXT,                          -- JSON, the bank's answer
    created_at REAL NOT NULL
);
"""


class BadPaymentError(TppError):
    title = "FinLens could not start this payment"
    description = "Enter an amount such as 25.00 (EUR) and choose a payee FinLens knows."


class NoSuchPaymentError(TppError):
    status_code = 404
    title = "No such payment"
    description = "FinLens has no such payment for you."


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def details(payee: Payee, amount: str, currency: str, reference: str) -> list[dict[str, Any]]:
    """RFC 9396 §2: one payment_initiation object."""
    return [{"type": "payment_initiation",
             "instructedAmount": {"amount": amount, "currency": currency},
             "creditorName": payee.name, "creditorAccount": {"iban": payee.iban},
             "remittanceInformationUnstructured": reference}]


def order(form: dict[str, str]) -> list[dict[str, Any]]:
    """What the customer typed on the Pay page, checked before anything leaves FinLens."""
    payee = PAYEES.get(form.get("payee", ""))
    amount = form.get("amount", "").strip()
    reference = form.get("reference", "").strip()[:140] or "FinLens payment"
    if payee is None or not AMOUNT.fullmatch(amount) or float(amount) <= 0 \
            or form.get("currency", "EUR") != "EUR":
        raise BadPaymentError()
    if "." not in amount:
        amount += ".00"
    return details(payee, amount, "EUR", reference)


def start(config: LabConfig, inst: Institution, user_id: str,
          wanted: list[dict[str, Any]]) -> tuple[str, client.PendingFlow]:
    """The authorization request (PAR where the AS wants it) carrying the payment."""
    url, flow = client.start_flow(config, inst, scope=SCOPE,
                                  extra={"authorization_details": json.dumps(wanted)})
    context.current().store.execute(
        "INSERT INTO tpp_payments(id, user_id, institution_id, state, details, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'awaiting-consent', ?)",
        ("pay-" + secrets.token_hex(8), user_id, inst.id, flow.state, json.dumps(wanted),
         clock.now()))
    return url, flow


def awaiting(store: Store, state: str | None) -> dict[str, Any] | None:
    if not state:
        return None
    return store.query_one("SELECT * FROM tpp_payments WHERE state = ? AND "
                           "status = 'awaiting-consent'", (state,))


def body_from(granted: object) -> dict[str, Any]:
    """POST /payments as the bank's API wants it, from the details the bank granted."""
    item = granted[0] if isinstance(granted, list) and granted else {}
    if not isinstance(item, dict):
        item = {}
    amount = item.get("instructedAmount") or {}
    return {"debtor_account_id": (item.get("debtorAccount") or {}).get("account_id"),
            "creditor": {"name": item.get("creditorName"),
                         "iban": (item.get("creditorAccount") or {}).get("iban")},
            "instructed_amount": {"amount": amount.get("amount"),
                                  "currency": amount.get("currency")},
            "reference": item.get("remittanceInformationUnstructured")}


def submit(config: LabConfig, inst: Institution, payment: dict[str, Any],
           token: dict[str, Any]) -> dict[str, Any]:
    """Post the consented payment once (Idempotency-Key = FinLens's payment id)."""
    store = context.current().store
    link = {"access_token": token.get("access_token"), "token_type": token.get("token_type"),
            "status": "active"}
    session = bank_api.LinkSession(config, inst, link)
    try:
        response = session.send("POST", "/payments",
                                json=body_from(token.get("authorization_details")),
                                headers={"Idempotency-Key": payment["id"]})
        status, answer = response.status_code, _json(response)
    except bank_api.BankUnavailableError as exc:
        status, answer = 0, {"error": str(exc) or "bank unreachable"}
    store.execute("UPDATE tpp_payments SET status = ?, access_token = ?, token_type = ?, "
                  "bank_status = ?, answer = ? WHERE id = ?",
                  ("booked" if status == 201 else "refused", link["access_token"],
                   link["token_type"], status, json.dumps(answer), payment["id"]))
    return get(store, payment["user_id"], payment["id"]) or payment


def _json(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"error": f"HTTP {response.status_code}"}
    return data if isinstance(data, dict) else {}


def get(store: Store, user_id: str, payment_id: object) -> dict[str, Any] | None:
    row = store.query_one("SELECT * FROM tpp_payments WHERE id = ? AND user_id = ?",
                          (str(payment_id), user_id))
    if row is None:
        return None
    row["details"] = json.loads(row["details"])
    row["answer"] = json.loads(row["answer"]) if row["answer"] else None
    return row
