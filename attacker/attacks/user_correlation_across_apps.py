"""user-correlation-across-apps: two apps join what they know of one person on her `sub`.

A1 runs EvilApp, a client of its own at the honest AS, and holds a leak of FinLens's user
records — the (iss, sub) FinLens keeps for each person who signs in with her bank
(lab/tpp/identities.py; attacker.leaks grants that table and nothing else). The victim,
who uses FinLens, is lured into signing in to EvilApp too. EvilApp joins: if its `sub` for
her is in FinLens's table, it knows which of FinLens's customers she is and can merge both
apps' data about her without her consent (OIDC Core §17.3). With pairwise subjects (§8)
each sector gets its own pseudonym and there is nothing to join on.

Nothing is refused either way: the AS answers every request. The goal is missed because the
identifiers differ, and the `prevented` event of pairwise_subjects on EvilApp's own token
request records why (as tpp_referrer_policy's does for the Referer leak).
"""

from __future__ import annotations

from typing import Any

import jwt

from attacker import leaks
from attacker import signin_support as ss
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.outcome import AttackSetupError


def _sub(id_token: str) -> str:
    """The `sub` of an ID token the app holds (its own token: no need to verify it again)."""
    claims: dict[str, Any] = jwt.decode(id_token, options={"verify_signature": False})
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AttackSetupError("an ID token without a sub")
    return sub


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    victim.sign_in_with_bank()
    # The lab's judge (not the attacker) reads whom FinLens knows her as, from her dashboard:
    # a record with EvilApp's sub that is not hers (an account another attack made FinLens
    # open with an ID token of EvilApp's) is no correlation.
    with victim.own():
        her = victim.browser.identity()
    if her is None:
        raise AttackSetupError("the victim's FinLens dashboard names no bank identity")
    ctx.step("victim", "uses FinLens, signed in with her bank")
    evilapp_sub = _sub(ss.evilapp_id_token(ctx, victim))
    ctx.step("attacker", f"EvilApp knows the victim as sub {evilapp_sub[:24]!r}")
    matches = [r for r in leaks.tpp_user_records(ctx)
               if (r["issuer"], r["sub"]) == (ctx.config.issuer, evilapp_sub) == her]
    if not matches:
        ctx.failed("EvilApp's identifier for the victim is in none of FinLens's records: the "
                   "apps know her by different identifiers (pairwise subjects), nothing to "
                   "join on")
    ctx.succeeded(f"EvilApp's user {evilapp_sub!r} is FinLens's user {matches[0]['user']!r}: "
                  "both apps' records of the victim can be merged",
                  {"sub": evilapp_sub, "finlens_user": matches[0]["user"]})


ATTACK = Attack(
    id="user-correlation-across-apps", attacker="A1 running EvilApp, with FinLens's user "
    "records leaked", legs=("own",), victim="live", grants=(leaks.LEAKED_TPP_USER_RECORDS,),
    title="Two apps correlate a user through her sub",
    blocked_by=("pairwise_subjects",),
    premise="Runs EvilApp (its own registered client, subject_type public) and holds FinLens's "
            "leaked user records (issuer, sub and FinLens account of everyone who signed in "
            "with a bank); lures a FinLens user into signing in to EvilApp.",
    goal="EvilApp's identifier for the victim equals FinLens's, so the two apps' data about "
         "her can be joined",
    run=run, refs=("OIDC Core §8", "OIDC Core §8.1", "OIDC Core §17.3", "RFC 9068 §6"),
    fapi2_blocks=False,
    why_not="FAPI 2.0 says nothing about subject identifiers; OIDC Core §8 leaves the choice "
            "to the client's registration, and an app that wants to correlate registers "
            "public. Only an AS policy of pairwise subjects for every client stops it",
    counts_prevented=("pairwise_subjects",),
)
