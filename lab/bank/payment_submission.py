"""POST /payments once it is parsed: the idempotency key, the payment consent, the booking.

payment_consent_binding (attacks.md §2.7; PSD2 RTS Art. 5 "dynamic linking"): the payment
must be the one the customer consented to — debtor account, amount, currency, creditor name
and IBAN exactly as in the grant's authorization_details (RFC 9396) — and that consent is
used up by it. Off, any payment the payments:write scope and the account consent allow goes.
The idempotency key is checked whatever the switch: it protects the client, not the user.
"""

from __future__ import annotations

from typing import Any

from lab.bank.payments import PaymentRequest
from lab.bank.protector import AccessToken
from lab.controls import guard
from lab.domain import idempotency, ledger, payment_consents
from lab.protocol.resource_errors import BankError, InsufficientScopeError, InvalidRequestError
from lab.store.base import Store

BINDING = guard("payment_consent_binding")
IDEMPOTENCY_HEADER = idempotency.HEADER


class NoPaymentConsentError(InsufficientScopeError):
    description = "This payment needs the customer's consent to it (authorization_details)."


class PaymentDiffersError(InsufficientScopeError):
    description = "The payment differs from the one the customer consented to."


class ConsentUsedError(InsufficientScopeError):
    description = "The customer's consent to this payment was already used."


class KeyReusedError(BankError):
    """IETF Idempotency-Key draft: the same key with another payload is 422."""

    error = "idempotency_key_reused"
    description = "This Idempotency-Key was used with another request body; nothing was booked."
    status_code = 422
    challenge = False


class KeyInUseError(BankError):
    """IETF Idempotency-Key draft: the first request with this key is still running: 409."""

    error = "idempotency_key_in_use"
    description = "A request with this Idempotency-Key is still being processed; retry shortly."
    status_code = 409
    challenge = False


def _grant_id(token: AccessToken) -> str | None:
    if token.grant:
        return str(token.grant["id"])
    value = token.claims.get("grant_id")
    return value if isinstance(value, str) else None


def bind(store: Store, token: AccessToken, order: PaymentRequest) -> None:
    """payment_consent_binding: this payment is the consented one, and the first use of it."""
    if not BINDING.on():
        return
    grant_id = _grant_id(token)
    consent = payment_consents.of_grant(store, grant_id)
    if consent is None:
        raise BINDING.refuse(NoPaymentConsentError(), reason=f"{grant_id or 'no grant'}: no "
                             "payment consent (authorization_details) behind this token")
    changed = payment_consents.differences(
        consent, debtor_account_id=order.debtor_account_id, amount_cents=order.amount_cents,
        currency=order.currency, creditor_name=order.creditor_name,
        creditor_iban=order.creditor_iban)
    if changed:
        raise BINDING.refuse(PaymentDiffersError(), reason="payment differs from the consent "
                             "in: " + ", ".join(changed))
    if consent["used_at"] is not None or not payment_consents.use(store, consent["grant_id"]):
        raise BINDING.refuse(ConsentUsedError(), reason=f"{grant_id}: payment consent "
                             "already used (single use)")


def _book(store: Store, token: AccessToken, order: PaymentRequest,
          account: dict[str, Any]) -> dict[str, Any]:
    bind(store, token, order)
    return ledger.make_payment(
        store, account=account, creditor_name=order.creditor_name,
        creditor_iban=order.creditor_iban, amount_cents=order.amount_cents,
        reference=order.reference, client_id=token.client_id, grant_id=_grant_id(token))


def submit(store: Store, token: AccessToken, order: PaymentRequest, account: dict[str, Any],
           body: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Book the payment once; with an Idempotency-Key, a retry gets the first answer."""
    if key is None:
        return _book(store, token, order, account)
    if not idempotency.valid_key(key):
        raise InvalidRequestError("Idempotency-Key must be 1 to 64 printable ASCII characters.")
    client_id = token.client_id or ""
    claim = idempotency.claim(store, client_id, key, idempotency.body_hash(body))
    if claim.state == "replay" and claim.result is not None:
        return claim.result
    if claim.state == "conflict":
        raise KeyReusedError()
    if claim.state != "first":
        raise KeyInUseError()
    try:
        payment = _book(store, token, order, account)
    except BaseException:
        idempotency.release(store, client_id, key)
        raise
    idempotency.finish(store, client_id, key, payment)
    return payment
