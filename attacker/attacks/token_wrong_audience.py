"""token-wrong-audience: PartnerRewards replays at the bank the token FinLens gave it.

attacks.md §3 A (BCP §4.9.1 "malicious resource server", BCP A5). FinLens's Rewards page
asks the honest AS for a PartnerRewards token (a refresh narrowed to rewards:read with
`resource` = the partner, RFC 8707 §2.2) and sends it to PartnerRewards, which is the
attacker. PartnerRewards cannot make a DPoP proof, so it forwards what it received to
GET /accounts at the bank. aud_check: the token names PartnerRewards, not the bank
(RFC 9068 §4); scope_check: rewards:read opens no bank endpoint (RFC 6750 §3.1).
"""

from __future__ import annotations

from attacker import fixtures
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import balances_with
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    victim = linked_victim(ctx)
    page = victim.visit(ctx.url("tpp", "/rewards"))
    ctx.step("victim", "that is FinLens's Rewards page: FinLens asks PartnerRewards for the "
             "points", status=page.status_code)
    calls = [r for r in fx.received(ctx, "partner", since=since, path="/points")
             if r.header("Authorization")]
    if not calls:
        ctx.failed("FinLens sent PartnerRewards no token")
    received = calls[-1]
    ctx.step("attacker", "PartnerRewards keeps the Authorization header FinLens sent it")
    headers = {"Authorization": received.header("Authorization") or ""}
    if received.header("DPoP"):
        headers["DPoP"] = received.header("DPoP") or ""   # the only proof it has
    balances = balances_with(
        ctx, lambda url, what: ctx.send("GET", url, headers=headers, what=what),
        listing="PartnerRewards sends the token to the bank: GET /accounts",
        refused="the bank refused the partner's token", every=True)
    ctx.succeeded(f"PartnerRewards read the balances of {len(balances)} of "
                  f"{victim.username}'s accounts", balances)


ATTACK = Attack(
    id="token-wrong-audience", attacker="A1 running PartnerRewards (BCP A5)", legs=("own",),
    title="Partner API replays the token it received",
    blocked_by=("aud_check", "scope_check"),
    victim="prior",
    premise="Runs PartnerRewards, a partner API FinLens calls with a token from the honest AS; "
            "keeps what it receives. Cannot make DPoP proofs for FinLens's key.",
    goal="the victim's balances, read by PartnerRewards at the bank", run=run,
    refs=("BCP §4.9.1", "BCP §4.10.2", "RFC 8707 §2", "RFC 9068 §4", "RFC 6750 §3.1"),
)
