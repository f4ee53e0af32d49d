"""request-object-replay: a FinLens-signed request object reused two hours later.

attacks.md §3 E (A3a + A1). With `request=jar` FinLens puts its signed request object in
the front channel (RFC 9101 §5.1). The victim starts linking and abandons the flow on the
login page; his pending flow stays in FinLens's session. The attacker, who reads
authorization requests, waits two hours (lab clock), opens the captured
/authorize?client_id=tpp&request=… itself and signs in as mallory: code_M comes back with
the victim's state, and the victim's PKCE challenge inside the object. Lured to the
callback, the victim's browser hands code_M to FinLens, which redeems it with the victim's
verifier. Only a bounded request object lifetime (F1P2 §5.2.2: nbf at most 60 min old)
or PAR (no request object in the front channel, FAPI2 §6.4) stops it.
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.capture_view import Leaked

DELAY = 2 * 3600


def _request_object_url(leaked: Leaked) -> bool:
    return leaked.method == "GET" and "request" in leaked.query()


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    victim.link(stop="login")
    victim_ids = set(ctx.victim_request_ids)
    leaked = ctx.capture.last("authz_request", where=lambda c: c.request_id in victim_ids
                              and _request_object_url(c))
    ctx.step("attacker", "reads the victim's authorization request (client_id + a signed "
             "request object) on the authz_request leg; the victim abandoned it")
    ctx.advance_clock(DELAY)
    attacker = fc.AttackerBrowser(ctx)
    own = attacker.authorize(leaked.url, what="two hours later (lab clock) opens the victim's "
                             "request object in its own browser, signs in as mallory and "
                             "consents; keeps code_M")
    assert own.callback_url is not None
    fc.lure_to_callback(victim, own.callback_url)
    page = victim.dashboard()
    ids = fc.expect_accounts_of(ctx, page, "mallory", "the victim's")
    ctx.succeeded(f"the victim's FinLens is linked to {len(ids)} of mallory's accounts",
                  {"victim_tpp_user": victim.tpp_user, "accounts": ids, "state": own.state})


ATTACK = Attack(
    id="request-object-replay", attacker="A3a + A1", legs=("authz_request",), victim="live",
    title="Signed request object reused two hours later",
    blocked_by=("request_object_lifetime", "par_required"),
    needs={"request": "jar"},
    premise="Reads authorization requests in the front channel (a FinLens-signed request "
            "object from a flow the victim abandoned); has its own browser and HonestBank "
            "customer (mallory); sends the victim links. FinLens keeps pending flows.",
    goal="the victim's FinLens linked to mallory's account", run=run,
    refs=("F1P2 §5.2.2", "MS §5.3.1", "FAPI2 §6.4", "RFC 9126 §7.3", "RFC 9101 §10.2"),
    also_blocked_by={
        "tpp_checks_state":
            "FinLens forgets a pending flow after 10 minutes (lab/tpp/callback.py "
            "FLOW_LIFETIME; the catalog's premise is a TPP that keeps them 24 h), so two "
            "hours later the victim's state matches no flow and the state check refuses the "
            "callback; with the check off FinLens redeems the code without a flow",
        "tpp_checks_nonce":
            "the replayed object carries the victim's own nonce, so the ID token would match "
            "her flow, but FinLens forgot that flow after 10 minutes (FLOW_LIFETIME, as for "
            "tpp_checks_state): two hours later no nonce is pending in her session and the "
            "nonce check refuses the callback; the attacker can neither replay sooner (the "
            "premise is a stale object) nor change the signed nonce",
    },
)
