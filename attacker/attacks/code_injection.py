"""code-injection: a leaked code injected into the attacker's own FinLens session.

A3b reads the authorization response of a victim flow that was interrupted before the
callback (attacks.md §3 D). The attacker starts "Link HonestBank" in its own browser
(state_A, verifier_A, nonce_A) and delivers code_V with state_A: FinLens redeems the
victim's code for the attacker's account. PKCE binds the code to the browser that started
the flow (BCP §4.5, FAPI2 §5.3.3.2 via RFC 7636 §4.6); the nonce check binds the ID token.
With JARM the attacker replays the signed response whole (the state inside is the victim's).
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.outcome import PKCE_ALONE
from attacker.premises import interrupted_victim


def inject(ctx: AttackContext, *, delay: float = 0.0) -> None:
    """The attack, optionally `delay` seconds after the code was issued (code-injection-late)."""
    victim = interrupted_victim(ctx)
    leaked = fc.victims_response(ctx)
    params = leaked.location_params()
    ctx.step("attacker", "reads the victim's authorization response on the authz_response "
             "leg and copies its code")
    if delay:
        ctx.advance_clock(delay)
    own = fc.own_pending_flow(ctx)
    if "response" in params:
        # JARM: code and state are inside the AS's signature; the attacker cannot put its own
        # state next to the code, so it replays the victim's whole signed response.
        own.browser.deliver(fc.callback_with(ctx, {"response": params["response"]}),
                            "opens FinLens's callback with the victim's whole signed "
                            "(JARM) response")
    else:
        injected = {k: v for k, v in params.items() if k in ("code", "iss")}
        if own.state:
            injected["state"] = own.state
        own.browser.deliver(fc.callback_with(ctx, injected),
                            "opens FinLens's callback with the victim's code and its own state")
    page = own.browser.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim.username, "the attacker's")
    ctx.succeeded(f"the attacker's FinLens account shows {len(ids)} of {victim.username}'s "
                  "accounts", {"tpp_user": own.browser.tpp_user, "accounts": ids})


def run(ctx: AttackContext) -> None:
    inject(ctx)


ATTACK = Attack(
    id="code-injection", attacker="A3b", legs=("authz_response",), victim="prior",
    title="Leaked code injected into the attacker's TPP session",
    blocked_by=("pkce_required", "tpp_checks_nonce", "jarm", "tpp_checks_state"),
    premise="Holds code_V from the authorization response of a victim flow interrupted before "
            "the callback; has its own browser and FinLens account.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("BCP §4.5", "FAPI2 §5.5", "RFC 7636 §1", "F1P2 §8.4.3"),
    not_alone={"tpp_checks_state": "the attacker sends the state of the flow pending in its "
               "own session, so the state check passes; state binds the response to a browser, "
               "not the code to a flow (the catalog pairs it with jarm, where the state is "
               "inside the signed response)",
               "pkce_required": PKCE_ALONE,
               "jarm": "the attacker replays the victim's whole signed response: JARM proves "
               "which AS issued it and for which client, not which browser asked for it; "
               "without tpp_checks_state FinLens takes it for the flow pending in the "
               "attacker's session (the catalog pairs jarm with tpp_checks_state, which then "
               "finds the victim's state, signed, in a session that never sent it)"},
)
