"""otp-phishing-relay: password and TOTP relayed in real time.

CS + A1: the victim types his password and his current TOTP into the attacker's look-alike
HonestBank page (modelled as the attacker receiving exactly what the scripted victim would
type). Within 20 s, from 127.0.0.2 and its own browser (a new device cookie), the attacker
links HonestBank in its own FinLens account and signs in as alice with them. A second
factor that can be typed into any page does not stop a real-time relay (NIST SP 800-63B
§5.2.5: not phishing-resistant); only risk signals would (RTS Art. 2, risk_based_auth, not
built yet). The FAPI 2.0 attacker model leaves user authentication out of scope (AM §6).
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack

RELAY_DELAY = 15.0


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    password, code = victim.agent.password, victim.agent.second_factor()
    ctx.step("victim", "types his password and current TOTP into the attacker's look-alike "
             "HonestBank page")
    ctx.advance_clock(RELAY_DELAY)
    attacker = fc.AttackerBrowser(ctx, victim.username, password=password, relayed_code=code)
    url = attacker.start_link()
    own = attacker.authorize(url, what=f"signs in at the AS as {victim.username} with the "
                             "relayed password and TOTP from its own browser, and consents")
    assert own.callback_url is not None
    attacker.deliver(own.callback_url, "comes back to FinLens in its own browser")
    page = attacker.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim.username, "the attacker's")
    balances = {a.account_id: f"{a.balance} {a.currency}" for link in page.links
                for a in link.accounts if a.account_id in ids}
    ctx.succeeded(f"the attacker's FinLens account shows the balances of {len(ids)} of "
                  f"{victim.username}'s accounts", balances)

ATTACK = Attack(
    id="otp-phishing-relay", attacker="CS + A1", legs=("own",), victim="live",
    title="Password and TOTP relayed in real time",
    blocked_by=("risk_based_auth",),
    premise="Runs a look-alike HonestBank login page the victim types into; has its own "
            "browser and FinLens account.",
    goal="the victim's balances in the attacker's FinLens account", run=run,
    fapi2_blocks=False,
    why_not="user authentication is out of scope of the FAPI 2.0 attacker model (AM §6); a "
            "relayed TOTP is a valid second factor, so mfa_required does not help",
    refs=("NIST SP 800-63B §5.2.2", "RTS Art. 2", "AM §6"),
    also_blocked_by={
        "pkce_required":
            "the attacker links through FinLens, whose legacy flow sends no PKCE: the AS "
            "refuses FinLens's request itself",
    },
)
