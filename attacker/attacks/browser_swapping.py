"""browser-swapping: an attacker-started flow completed by the victim.

The attacker starts "Link HonestBank" in its own browser and sends the authorization URL
to the victim ("re-confirm your bank link"). The victim signs in and consents; his browser
lands on FinLens, which cannot use a response for a flow the victim's session never started
(from PKCE on the code stays unconsumed). The attacker reads the response on the
authz_response leg (A3b) and opens it in its own browser, where the flow is pending: its
FinLens account is linked to the victim's accounts. FAPI2 §6.5: once the response leaks,
no redirect-based protocol fully prevents this.
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def run(ctx: AttackContext) -> None:
    attacker = fc.AttackerBrowser(ctx)
    url = attacker.start_link()
    ctx.step("attacker", "copies the authorization URL and sends it to the victim "
             "(\"re-confirm your bank link\")")
    victim = ctx.victim("alice")
    fc.lure_to_authorize(victim, url)
    leaked = fc.victims_response(ctx)
    ctx.step("attacker", "reads the victim's authorization response on the authz_response leg")
    attacker.deliver(fc.response_url(leaked),
                     "opens the victim's authorization response in its own browser")
    page = attacker.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim.username, "the attacker's")
    ctx.succeeded(f"the attacker's FinLens account is linked to {len(ids)} of "
                  f"{victim.username}'s accounts",
                  {"tpp_user": attacker.tpp_user, "accounts": ids})


ATTACK = Attack(
    id="browser-swapping", attacker="A1 + A3b", legs=("authz_response",), victim="live",
    title="Attacker-started flow completed by the victim",
    blocked_by=(),
    premise="Has its own browser and FinLens account; sends the victim a link; reads the "
            "authorization response of the flow the victim completes.",
    goal="the attacker's FinLens account linked to the victim's accounts", run=run,
    fapi2_blocks=False,
    why_not="FAPI2 §6.5: once the authorization response leaks, no redirect-based protocol "
            "fully prevents its use in another browser; code_short_lifetime and "
            "request_uri_single_use only shorten the window",
    refs=("FAPI2 §6.5", "AM §7.5"),
    also_blocked_by={
        "code_single_use":
            "without a verifier to check, FinLens redeems the code when the victim's browser "
            "delivers it, so the attacker's later use is a second redemption",
    },
)
