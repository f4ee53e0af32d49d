"""The one aggregated view: every linked account, its balance, recent transactions, and totals.

Each institution is asked with its own link's tokens; a link that stopped
working shows as revoked instead of breaking the page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from lab import clock, context
from lab.config import LabConfig

from . import institutions, links
from .bank_api import BankUnavailableError, ForbiddenError, LinkRevokedError, LinkSession

RECENT_PER_ACCOUNT = 10
HISTORY_DAYS = 60
BALANCE_TYPES = ("interimAvailable", "closingBooked")


@dataclass
class AccountView:
    account_id: str
    name: str
    type: str
    iban: str
    currency: str
    balance: Decimal | None = None
    balance_note: str = ""


@dataclass
class TransactionView:
    booking_date: str
    amount: Decimal
    currency: str
    description: str
    counterparty: str
    account_name: str
    institution: str


@dataclass
class LinkView:
    id: str
    institution_id: str
    institution: str
    subject: str
    status: str
    status_reason: str
    accounts: list[AccountView] = field(default_factory=list)
    note: str = ""


@dataclass
class Dashboard:
    links: list[LinkView]
    transactions: list[TransactionView]
    totals: dict[str, Decimal]


def _amount(value: Any) -> tuple[Decimal, str] | None:
    """An open-banking amount object {"amount": "12.34", "currency": "EUR"}."""
    if not isinstance(value, dict):
        return None
    try:
        amount = Decimal(str(value.get("amount")))
    except InvalidOperation:
        return None
    currency = value.get("currency")
    return (amount, currency) if amount.is_finite() and isinstance(currency, str) else None


def _text(value: Any, limit: int = 120) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _balance(data: dict[str, Any]) -> Decimal | None:
    found: dict[str, Decimal] = {}
    for entry in data.get("balances") or []:
        parsed = _amount(entry.get("amount")) if isinstance(entry, dict) else None
        if parsed and entry.get("type") in BALANCE_TYPES:
            found.setdefault(entry["type"], parsed[0])
    return next((found[t] for t in BALANCE_TYPES if t in found), None)


def _transactions(data: dict[str, Any], account: AccountView, inst_name: str
                  ) -> list[TransactionView]:
    rows: list[TransactionView] = []
    for entry in data.get("transactions") or []:
        parsed = _amount(entry.get("amount")) if isinstance(entry, dict) else None
        if not parsed:
            continue
        rows.append(TransactionView(_text(entry.get("booking_date"), 10), parsed[0], parsed[1],
                                    _text(entry.get("description")),
                                    _text(entry.get("counterparty")), account.name, inst_name))
    rows.sort(key=lambda t: t.booking_date, reverse=True)
    return rows[:RECENT_PER_ACCOUNT]


def _accounts(session: LinkSession, view: LinkView) -> list[TransactionView]:
    recent: list[TransactionView] = []
    listing = session.get("/accounts").get("accounts") or []
    today = dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()
    for item in listing if isinstance(listing, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("account_id"), str):
            continue
        account = AccountView(item["account_id"], _text(item.get("name")),
                              _text(item.get("type")), _text(item.get("iban")),
                              _text(item.get("currency"), 3))
        view.accounts.append(account)
        path = "/accounts/" + quote(account.account_id, safe="")
        try:
            account.balance = _balance(session.get(path + "/balances"))
        except ForbiddenError:
            account.balance_note = "balance not shared"
        try:
            data = session.get(path + "/transactions", {
                "from": (today - dt.timedelta(days=HISTORY_DAYS)).isoformat(),
                "to": today.isoformat(), "page": 1, "page_size": 100})
            recent.extend(_transactions(data, account, view.institution))
        except ForbiddenError:
            pass
    return recent


def build(config: LabConfig, user_id: str) -> Dashboard:
    store = context.current().store
    views: list[LinkView] = []
    recent: list[TransactionView] = []
    for link in links.links_of(store, user_id):
        inst = institutions.get(store, link["institution_id"])
        view = LinkView(link["id"], link["institution_id"], inst.name if inst else "(removed)",
                        link["subject"], link["status"], link["status_reason"] or "")
        views.append(view)
        if inst is None or link["status"] != "active":
            continue
        try:
            recent.extend(_accounts(LinkSession(config, inst, link), view))
        except LinkRevokedError as exc:
            view.status, view.status_reason, view.accounts = "revoked", str(exc), []
        except BankUnavailableError as exc:
            view.note = f"{view.institution} is unavailable right now ({exc})."
        except ForbiddenError:
            view.note = "The bank refused to list the accounts."
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for view in views:
        for account in view.accounts if view.status == "active" else []:
            if account.balance is not None:
                totals[account.currency] += account.balance
    recent.sort(key=lambda t: t.booking_date, reverse=True)
    return Dashboard(views, recent, dict(totals))
