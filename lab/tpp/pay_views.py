"""FinLens's minimal payment form and its step-up (thin views over lab/tpp/step_up.py).

The form (pay_on_link.html) posts the bank's POST /payments body on a linked account's
existing grant (scope payments:write): the issue's "another payment three days later", which
meets step_up_for_payments. A payment under its own RFC 9396 consent is lab/tpp/pay.py's
"Pay" page. On a challenge: `step_up.pay`, then `step_up.start` plus `remember_step_up`; the
callback (views._complete) finishes with `finish_step_up`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request
from flask import session as browser

from lab import context
from lab.config import LabConfig

from . import bank_api, links, step_up
from .errors import TppError
from .links import User

bp = Blueprint("tpp_pay", __name__)
MAX_PENDING_FLOWS = 5
# The lab's café (a valid ISO 13616 IBAN outside the bank): the 25.00 EUR example.
CORNER_CAFE = {"name": "Corner Café", "iban": "DE89370400440532013000"}


class PaymentInputError(TppError):
    title = "FinLens could not send this payment"
    description = "Choose an account and give an amount like 25.00."


def _config() -> LabConfig:
    config: LabConfig = current_app.extensions["lab_config"]
    return config


def _user() -> User:
    user = links.get_user(context.current().store, browser.get("user"))
    if user is None:
        raise PaymentInputError("Sign in to FinLens first.")
    return user


def _see_other(location: str) -> Response:
    return redirect(location, code=303)  # type: ignore[return-value]


def _order(form: Any) -> dict[str, Any]:
    amount, account = str(form.get("amount", "")).strip(), str(form.get("account", ""))
    if not account or len(account) > 64 or not amount or len(amount) > 20:
        raise PaymentInputError()
    return {"debtor_account_id": account,
            "creditor": {"name": str(form.get("creditor_name") or CORNER_CAFE["name"])[:70],
                         "iban": str(form.get("creditor_iban") or CORNER_CAFE["iban"])[:40]},
            "instructed_amount": {"amount": amount,
                                  "currency": str(form.get("currency") or "EUR")[:3]},
            "reference": str(form.get("reference") or "")[:140]}


@bp.get("/links/<link_id>/pay")
def pay_form(link_id: str) -> str:
    user = _user()
    try:
        accounts = step_up.accounts(_config(), user.id, link_id)
    except bank_api.LinkRevokedError:
        raise PaymentInputError("This link has ended; re-link the bank first.") from None
    except (bank_api.BankUnavailableError, bank_api.ForbiddenError):
        raise PaymentInputError("The bank did not list the accounts of this link.") from None
    return render_template("pay_on_link.html", user=user, link_id=link_id, accounts=accounts,
                           creditor=CORNER_CAFE)


@bp.post("/links/<link_id>/pay")
def pay(link_id: str) -> Response:
    user = _user()
    order = _order(request.form)
    try:
        outcome = step_up.pay(_config(), user.id, link_id, order)
    except (bank_api.LinkRevokedError, bank_api.BankUnavailableError) as exc:
        outcome = step_up.Outcome("refused", error=str(exc)[:80] or "unavailable")
    if outcome.kind == "step_up" and outcome.challenge is not None:
        # RFC 9470 §4: back to the bank's sign-in with what the challenge asked for.
        url, flow = step_up.start(_config(), user.id, link_id, outcome.challenge)
        flows = [f for f in browser.get("flows", []) if isinstance(f, dict)]
        browser["flows"] = [*flows[-(MAX_PENDING_FLOWS - 1):], flow.as_dict()]
        browser[step_up.SESSION_KEY] = step_up.remember(browser.get(step_up.SESSION_KEY),
                                                        flow.state, link_id, order)
        return _see_other(url)
    return _reported(outcome)


def _reported(outcome: step_up.Outcome) -> Response:
    if outcome.kind == "paid":
        p = outcome.payment
        amount = p.get("instructed_amount") or {}
        flash(f"Payment sent: {amount.get('amount')} {amount.get('currency')} to "
              f"{(p.get('creditor') or {}).get('name')} ({p.get('status')}).")
    else:
        flash(f"The bank refused the payment ({outcome.error}).")
    return _see_other("/dashboard")


def take_step_up(state: object) -> dict[str, Any] | None:
    """The payment waiting for this callback's state, removed from the session."""
    found, kept = step_up.take(browser.get(step_up.SESSION_KEY), state)
    browser[step_up.SESSION_KEY] = kept
    return found


def finish_step_up(user_id: str, found: dict[str, Any]) -> Response:
    """After the fresh authentication: the payment once more, and what came of it."""
    try:
        outcome = step_up.retry(_config(), user_id, found)
    except (bank_api.LinkRevokedError, bank_api.BankUnavailableError) as exc:
        outcome = step_up.Outcome("refused", error=str(exc)[:80] or "unavailable")
    return _reported(outcome)
