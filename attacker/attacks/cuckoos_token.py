"""cuckoos-token: a stolen token laundered through the honest TPP by a rogue bank (A1a + A5).

attacks.md §3 A; FAPI2 §6.3 ("cuckoo's token attack"). The attacker holds a victim token
read off the resource leg, bound (when FAPI) to FinLens's key. It links EvilBank in its
own FinLens account; EvilBank's directory entry gives the honest bank as its API, and its
token endpoint returns the stolen token. FinLens calls the honest bank with it — and,
using one DPoP key for every institution, with a valid proof. FAPI 2.0 leaves the
defence optional (§6.3: per-AS keys, telling the RS the issuer, short lifetimes).
"""

from __future__ import annotations

from attacker import fixtures
from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import evil_received, link_evilbank
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    victim = linked_victim(ctx)
    scheme, token = token_of(ctx.capture.last("resource", where=is_accounts_list))
    ctx.step("attacker", f"reads FinLens's GET /accounts on the resource leg and copies its "
             f"{scheme} access token")
    fx.list_evilbank(api_base=ctx.config.bank_url)
    fx.evil_plan(mode="cuckoo", stolen_token=token,
                 stolen_token_type="DPoP" if scheme.lower() == "dpop" else "Bearer")
    ctx.step("attacker", "EvilBank's directory entry names the honest bank as its API; its "
             "token endpoint will hand out the stolen token")
    try:
        attacker = fc.AttackerBrowser(ctx)
        link_evilbank(ctx, attacker)
        if not evil_received(ctx, fx, since, "/token"):
            ctx.failed("FinLens never asked EvilBank for a token")
        page = attacker.dashboard()
    finally:
        fx.evil_plan()
        fx.list_evilbank()
    ids = fc.account_ids(page, fixtures.EVILBANK_ID)
    owners = fc.owner_of(ctx, ids)
    if not ids or owners != {victim.username}:
        ctx.failed("the attacker's FinLens dashboard shows no accounts of the victim under "
                   "EvilBank (the honest bank refused FinLens's call)")
    ctx.succeeded(f"the attacker's FinLens account shows {len(ids)} of {victim.username}'s "
                  "accounts under EvilBank", {"tpp_user": attacker.tpp_user, "accounts": ids})


ATTACK = Attack(
    id="cuckoos-token", attacker="A1a + A5", legs=("resource", "evil_as"), victim="prior",
    title="Stolen bound token laundered through the honest TPP",
    blocked_by=("tpp_per_as_keys", "dpop_bound_tokens"),
    premise="Holds a victim access token from the resource leg (not FinLens's key); runs "
            "EvilBank, listed in FinLens's directory, whose entry names the honest bank's API.",
    goal="the victim's accounts in the attacker's FinLens account", run=run,
    fapi2_blocks=False,
    why_not="FAPI2 §6.3 lists per-AS DPoP keys, telling the resource server the issuer and "
            "short token lifetimes only as optional mitigations; FinLens's one key makes a "
            "valid proof for the stolen token.",
    refs=("FAPI2 §6.3", "F1P2 §8.3.4", "arXiv:1901.11520"),
    not_alone={"tpp_per_as_keys": "separates DPoP keys and certificates, but legacy tokens "
               "are bearer tokens bound to no key, so FinLens's proof does not matter; with a "
               "sender constraint (fapi2-security + tpp_per_as_keys) it blocks via "
               "dpop_bound_tokens",
               "dpop_bound_tokens": "FinLens uses one DPoP key for every institution, so it "
               "makes a valid proof for the laundered token (FAPI2 §6.3); it blocks together "
               "with tpp_per_as_keys (which requires it)"},
)
