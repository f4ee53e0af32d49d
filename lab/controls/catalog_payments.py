"""Controls of payments (attacks.md §2.7): the bank's own policy, in no FAPI profile.

They come on together in the adaptive overlay (profiles.ADAPTIVE).
"""

from __future__ import annotations

from .model import Control, Refusal

PAYMENTS_CONTROLS: tuple[Control, ...] = (
    Control(
        "payment_consent_binding", "Payment = consent",
        "POST /payments must carry exactly the debtor account, amount, currency and creditor "
        "(name and IBAN) of the grant's consented authorization_details (RFC 9396 "
        "payment_initiation), and uses that consent up: a second submission is refused.",
        ("bank",), Refusal(403, "insufficient_scope"),
        "RTS Art. 5; RFC 9396; FAPI2 §5.3.2.2 note 5",
        "A payments:write scope says the app may pay, not what: an insider at the app, or "
        "anybody replaying its request with a new body, can send 2500.00 EUR to themselves "
        "on a consent for 25.00 EUR to a café. PSD2's dynamic linking ties the "
        "authentication to the amount and the payee; the bank enforces it by comparing the "
        "payment with what the customer saw and approved, once.",
        off_behaviour="Any payment from an account with a payments consent goes, as often as "
                      "the token is presented; only the payments:write scope is checked.",
    ),
)
