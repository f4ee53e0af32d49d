"""token-use-new-location: FinLens's exfiltrated keys and tokens used from somewhere else.

The MT insider copied FinLens's DPoP key, client credentials and the victim's current
tokens. From 127.0.0.2, with another user agent, it pulls transactions at about 20
requests per (lab) second, refreshing when the bank refuses the access token. Every
check the token passes is genuine: only watching how it is used (RTS Art. 2; FAPI2 §6.8
on key compromise) can tell this apart from FinLens.

Bounded: one short burst of BURST requests, the lab clock moving 1 s per RATE of them.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim

BURST = 40
RATE = 20                 # requests per lab-clock second
WIN_RATIO = 0.95
USER_AGENT = "python-httpx/0.27.0"


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    tokens = tpp.tokens
    headers = {"User-Agent": USER_AGENT}
    account_ids = [str(a.get("account_id")) for a in
                   ts.accounts(ctx, tokens, signer=tpp.signer, http=tpp.http)]
    if not account_ids:
        ctx.failed("the bank listed no accounts for the stolen token")
    answered, refreshed = 0, 0
    for n in range(BURST):
        if n and n % RATE == 0:
            ctx.advance_clock(1)
        account_id = account_ids[n % len(account_ids)]
        path = f"/accounts/{account_id}/transactions"
        r = ts.bank(ctx, "GET", path, tokens, signer=tpp.signer, http=tpp.http,
                    headers=headers, what=f"GET {path} (burst {n + 1}/{BURST})")
        if r.status_code == 401 and tokens.refresh_token and refreshed < 2:
            refreshed += 1
            new = tpp.refresh(tokens.refresh_token, what="POST /token: refresh as FinLens")
            if new.status_code == 200:
                tokens = ts.Tokens.of({**new.json(), "refresh_token":
                                       new.json().get("refresh_token") or tokens.refresh_token})
                r = ts.bank(ctx, "GET", path, tokens, signer=tpp.signer, http=tpp.http,
                            headers=headers, what=f"GET {path} (after refresh)")
        answered += r.status_code == 200
    ratio = answered / BURST
    summary = f"{answered}/{BURST} transaction requests answered ({ratio:.0%}) from another " \
              "address and user agent"
    if ratio < WIN_RATIO:
        ctx.failed(summary)
    ctx.succeeded(summary, {"answered": answered, "sent": BURST, "refreshed": refreshed})


ATTACK = Attack(
    id="token-use-new-location", attacker="MT", legs=("store",), victim="prior",
    title="Exfiltrated key and tokens used elsewhere",
    blocked_by=("token_usage_monitoring",),
    premise="A FinLens insider exfiltrated its DPoP key, client credentials and the victim's "
            "current tokens, and uses them from another address and user agent.",
    goal="at least 95 % of a burst of transaction requests answered", run=run,
    fapi2_blocks=False,
    why_not="key compromise is outside FAPI 2.0's attacker model (FAPI2 §6.8); only usage "
            "monitoring (token_usage_monitoring) can notice",
    refs=("RTS Art. 2", "FAPI2 §6.8"),
)
