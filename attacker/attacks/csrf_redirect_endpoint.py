"""csrf-redirect-endpoint: the attacker's code forced into the victim's FinLens session.

A1 links HonestBank as mallory in its own browser and keeps code_M unredeemed; the victim,
signed in to FinLens with no flow pending, is lured to FinLens's callback with code_M and
the attacker's state. Without state checking FinLens forwards the code without a verifier
(attacks.md §0, TPP flow binding), and the victim's FinLens shows mallory's account as his
own. RFC 6749 §10.12 (state bound to the user agent), BCP §4.7, FAPI2 §5.3.2.2 note 4
(PKCE carries the CSRF protection), OIDC §3.1.3.7 (nonce).
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def run(ctx: AttackContext) -> None:
    attacker = fc.AttackerBrowser(ctx)
    url = attacker.start_link()
    own = attacker.authorize(url, what="signs in at the AS as mallory and consents; keeps "
                             "code_M unredeemed")
    assert own.callback_url is not None   # authorize() ends the attack otherwise
    victim = ctx.victim("alice")
    victim.sign_in()
    fc.lure_to_callback(victim, own.callback_url)
    page = victim.dashboard()
    ids = fc.expect_accounts_of(ctx, page, "mallory", "the victim's")
    ctx.succeeded(f"the victim's FinLens shows {len(ids)} of mallory's accounts as his own "
                  "(his \"move to savings\" would pay mallory)",
                  {"victim_tpp_user": victim.tpp_user, "accounts": ids})


ATTACK = Attack(
    id="csrf-redirect-endpoint", attacker="A1", legs=("own",), victim="live",
    title="Attacker's code forced into the victim's TPP session",
    blocked_by=("tpp_checks_state", "pkce_required", "tpp_checks_nonce"),
    premise="Has its own browser, FinLens account and HonestBank customer (mallory); sends the "
            "victim, signed in to FinLens, a link the victim's browser follows.",
    goal="the victim's FinLens shows mallory's account as his own", run=run,
    refs=("RFC 6749 §10.12", "BCP §4.7", "FAPI2 §5.3.2.2", "AM §5.4"),
)
