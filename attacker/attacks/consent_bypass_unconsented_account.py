"""consent-bypass-unconsented-account: a token for checking + savings used on the card.

A FinLens insider (MT) holds the victim's token from FinLens's store and FinLens's
keys. Alice once shared her credit card with FinLens and then re-linked sharing only
checking + savings; FinLens's own request log still shows the card's id. The bank
must serve a token only the accounts and permissions of its grant (FAPI2 §5.3.4;
F1P1 §6.2.1; BCP §2.3).
"""

from __future__ import annotations

from typing import Any

from attacker import insider
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import account_of, accounts_url, tpp_binding

SHARED = ("checking", "savings")


def run(ctx: AttackContext) -> None:
    earlier = ctx.victim("alice", accounts=(*SHARED, "credit_card"))
    earlier.link()
    earlier.dashboard()
    mark = max(x.id for x in ctx.capture.all("resource"))
    victim = ctx.victim("alice", tpp_user=earlier.tpp_user, accounts=SHARED)
    victim.link()
    victim.dashboard()
    ctx.step("victim", "re-linked HonestBank sharing only checking + savings")
    link = insider.link_of(ctx, victim)
    token = str(link["access_token"])
    binding = tpp_binding(ctx, token, link["token_type"])
    listed = binding.send(ctx, "GET", ctx.url("bank", "/accounts"), token,
                          what="GET /accounts with the checking + savings token, "
                               "signed as FinLens")
    if listed.status_code != 200:
        ctx.failed("the bank refused FinLens's own token", listed)
    accounts = listed.json().get("accounts") or []
    extra = [a for a in accounts if a.get("type") not in SHARED]
    if extra:
        stolen: dict[str, Any] = {"unshared_accounts": extra}
        for account in extra:
            r = binding.send(ctx, "GET", accounts_url(ctx, account["account_id"], "balances"),
                             token, what=f"GET /accounts/{account['account_id']}/balances "
                                         f"({account.get('type')})")
            if r.status_code == 200:
                stolen[account["account_id"]] = r.json()
        ctx.succeeded(f"the token listed {len(extra)} accounts alice never shared: "
                      + ", ".join(str(a.get("type")) for a in extra), stolen)
    listed_ids = {a.get("account_id") for a in accounts}
    earlier_ids = {account_of(x) for x in ctx.capture.all("resource") if x.id <= mark}
    unshared = sorted(i for i in earlier_ids - listed_ids if i)
    if not unshared:
        ctx.failed("no unshared account id is known to try", listed)
    card = unshared[0]
    ctx.step("attacker", f"finds the card's id {card} in FinLens's log of the earlier link")
    r = binding.send(ctx, "GET", accounts_url(ctx, card, "balances"), token,
                     what=f"GET /accounts/{card}/balances (the card) with the checking + "
                          "savings token")
    if r.status_code != 200:
        ctx.failed("the bank refused the token on the unshared card account", r)
    ctx.succeeded("read the balance of the card alice no longer shares", r.json())


ATTACK = Attack(
    id="consent-bypass-unconsented-account", attacker="MT", legs=("store", "resource"),
    title="Token used on an account not shared",
    blocked_by=("consent_per_account",),
    victim="prior",
    premise="A FinLens insider: the victim's token (consent: checking + savings) and FinLens's "
            "keys from its store, and FinLens's own request log (the resource leg), which "
            "still shows the card's id from an earlier link that included the card.",
    goal="card data or accounts alice did not share", run=run,
    refs=("FAPI2 §5.3.4", "F1P1 §6.2.1", "BCP §2.3"),
    not_alone={
        "token_usage_monitoring":
            "alone over legacy the insider's few calls stay under the threshold (measured); "
            "in fapi2-security+adaptive its family is revoked before consent_per_account "
            "looks",
    },
    also_blocked_by={
        "token_usage_monitoring":
            "the insider's first call comes from a new address and asks for an account the "
            "bank never listed to this token: two alerts (40 + 40) pass the threshold, the "
            "family is revoked and that call is refused before consent_per_account looks",
    },
)
