"""Payment consents for tests: the demo payee, a consented grant, a payment body."""

from __future__ import annotations

from typing import Any

from lab.domain import iban, ledger, payment_consents
from lab.domain.payment_consents import Payment
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import Minted, account, mint

CAFE_IBAN = iban.make("DE", "10010010" + "0025002500")
CAFE = Payment(amount_cents=2500, currency="EUR", creditor_name="Corner Café",
               creditor_iban=CAFE_IBAN, reference="Coffee for the team")


def mallory_iban(lab: RunningLab) -> str:
    found = ledger.get_account(lab.store, account("mallory", "checking"))
    assert found is not None
    return str(found["iban"])


def consented(lab: RunningLab, payment: Payment = CAFE, *, debtor_type: str = "checking"
              ) -> Minted:
    """A token whose grant carries a payment consent, as the AS records it."""
    debtor = ledger.get_account(lab.store, account("alice", debtor_type))
    assert debtor is not None
    minted = mint(lab, scope="openid payments:write", accounts={debtor["id"]: ["payments"]})
    assert minted.grant_id
    payment_consents.record(lab.store, minted.grant_id, payment, debtor)
    return minted


def body(payment: Payment = CAFE, *, debtor_type: str = "checking", **changes: Any
         ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "debtor_account_id": account("alice", debtor_type),
        "creditor": {"name": payment.creditor_name, "iban": payment.creditor_iban},
        "instructed_amount": {"amount": payment.amount_text(), "currency": payment.currency},
        "reference": payment.reference}
    for key, value in changes.items():
        if key in ("name", "iban"):
            data["creditor"][key] = value
        elif key in ("amount", "currency"):
            data["instructed_amount"][key] = value
        else:
            data[key] = value
    return data


def balance(lab: RunningLab, username: str, type_: str = "checking") -> int:
    return ledger.balance_cents(lab.store, account(username, type_))
