"""login-csrf: the victim signed in to FinLens as the attacker, then links his own accounts.

A1 starts "Sign in with HonestBank" in its own browser, signs in at the AS as mallory and
keeps the authentication response. The victim's browser is lured to FinLens's sign-in
callback with it: without a pending flow of its own to compare with, FinLens signs him
in to mallory's FinLens account. He links his accounts there, and the attacker, signing in
as mallory, sees them. RFC 6749 §10.12 (state), OIDC §3.1.3.7 (nonce), RFC 7636 (PKCE:
the code is redeemed without the verifier of the flow that asked for it), BCP §4.7.
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker import signin_support as ss
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def run(ctx: AttackContext) -> None:
    attacker = fc.AttackerBrowser(ctx)
    own = attacker.authorize(ss.start_signin(ctx, attacker),
                             what="signs in at the AS as mallory; keeps the response")
    assert own.callback_url is not None   # authorize() ends the attack otherwise
    victim = ctx.victim("alice")
    victim.ctx.step("victim", "is lured to FinLens's sign-in callback with the attacker's "
                    "response", url=own.callback_url)
    victim.deliver(own.callback_url)
    victim.takes_session_as_his()
    victim.link()
    later = ss.signs_in_as_mallory(ctx)
    page = later.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim.username, "the attacker's")
    ctx.succeeded(f"the attacker's FinLens account (mallory's bank login) shows {len(ids)} "
                  f"of {victim.username}'s accounts, linked by the victim",
                  {"accounts": ids})


ATTACK = Attack(
    id="login-csrf", attacker="A1", legs=("own",), victim="live",
    title="Victim logged in to the TPP as the attacker, then links his own accounts",
    blocked_by=("tpp_checks_state", "tpp_checks_nonce", "pkce_required"),
    premise="Has its own browser and HonestBank customer (mallory); sends the victim a link "
            "his browser follows.",
    goal="the victim's accounts show in the FinLens account the attacker signs in to",
    run=run, refs=("RFC 6749 §10.12", "BCP §4.7", "OIDC §3.1.2.1", "AM §5.4"),
)
