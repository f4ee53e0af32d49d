"""request-uri-replay-csrf: a leaked request_uri used by the attacker, code forced into the
victim.

A3a + A1: while the victim lingers on the login page, the attacker opens the captured
/authorize?client_id=…&request_uri=… in its own browser and signs in as mallory: code_M is
bound to the victim's PKCE challenge, and the AS echoes the victim's state. The victim's
browser (his flow pending) is lured to the callback with code_M and that state; FinLens
redeems it with the victim's verifier, which matches. RFC 9126 §4: request_uri values
"SHOULD" be one-time use; FAPI2 §5.3.2.2 note 3 and §6.4 leave it to deployments.
fapi2-security (and Message Signing) consume it when the authorization completes
(consume_at=authorization), as note 3 lets the user reload the page: the faster browser wins,
here the attacker's. The stricter consume_at=load, request_uri_single_use's default (a single
switch over legacy, the workshop's step), refuses the attacker's load.
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.capture_view import Leaked


def _pushed_request_url(leaked: Leaked) -> bool:
    return leaked.method == "GET" and "request_uri" in leaked.query()


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    victim.link(stop="login")
    victim_ids = set(ctx.victim_request_ids)
    leaked = ctx.capture.last("authz_request", where=lambda c: c.request_id in victim_ids
                              and _pushed_request_url(c))
    ctx.step("attacker", "reads the victim's authorization request (client_id + request_uri) "
             "on the authz_request leg")
    attacker = fc.AttackerBrowser(ctx)
    own = attacker.authorize(leaked.url, what="opens the victim's request_uri in its own "
                             "browser, signs in as mallory and consents; keeps code_M")
    assert own.callback_url is not None
    fc.lure_to_callback(victim, own.callback_url)
    page = victim.dashboard()
    ids = fc.expect_accounts_of(ctx, page, "mallory", "the victim's")
    ctx.succeeded(f"the victim's FinLens is linked to {len(ids)} of mallory's accounts",
                  {"victim_tpp_user": victim.tpp_user, "accounts": ids,
                   "state": own.state})


ATTACK = Attack(
    id="request-uri-replay-csrf", attacker="A3a + A1", legs=("authz_request",), victim="live",
    title="Leaked `request_uri` used by the attacker, code forced into the victim",
    blocked_by=("request_uri_single_use",),
    needs={"request": "par"},
    fapi2_blocks=False,
    why_not="FAPI2 §5.3.2.2 note 3 lets a request_uri be used again until the authorization "
            "completes (fapi2-security consumes it then, consume_at=authorization), so an "
            "attacker who opens a leaked one while the victim lingers on the login page "
            "finishes first; request_uri_single_use with consume_at=load, the parameter a "
            "lesson switches on, refuses the second load",
    premise="Reads authorization requests (client_id + request_uri) in the front channel; has "
            "its own browser and HonestBank customer (mallory); sends the victim links. The "
            "victim is slow: he lingers on the login page.",
    goal="the victim's FinLens linked to mallory's account", run=run,
    refs=("RFC 9126 §4", "FAPI2 §5.3.2.2", "FAPI2 §6.4"),
)
