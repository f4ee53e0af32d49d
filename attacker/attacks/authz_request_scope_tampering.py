"""authz-request-scope-tampering: the victim's browser widens the request he approves.

UA: an extension in the victim's browser rewrites the authorization request FinLens sends
him to, adding payments:write to scope (adding scope when the URL has none). The scripted
victim approves what the consent page shows; FinLens redeems. Goal: FinLens keeps a grant
with payment permission it never asked for (later abused by MT or UA). The extension sees
the victim's pages, so the outcome is read where the victim can see it: FinLens's dashboard
and the new card on his bank's "Connected apps" page. The lab has no account pre-selection
to drop. PAR leaves nothing to widen (RFC 9126 §4, FAPI2 §5.3.3.1: only client_id and
request_uri in the front channel); F1P1 §5.2.3 / RFC 6749 §5.1: the client compares granted
with requested scope and discards the rest.
"""

from __future__ import annotations

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def _widen(url: str) -> str:
    scope = fc.query_of(url).get("scope", "openid")
    if fc.PAYMENT_SCOPE in scope.split():
        return url
    return fc.with_query(url, scope=f"{scope} {fc.PAYMENT_SCOPE}")


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    banking = victim.online_banking()
    before = {app["grant_id"] for app in banking.apps()}
    sent: list[str] = []

    def extension(url: str) -> str:
        """The extension's rewrite of the request FinLens sends the browser to."""
        sent.append(url)
        widened = _widen(url)
        ctx.step("attacker", "the extension adds payments:write to the request's scope",
                 url=widened)
        return widened

    victim.link("honestbank", rewrite=extension)
    if not sent:
        ctx.failed("the extension never saw an authorization request to rewrite")
    if not fc.account_ids(victim.dashboard()):
        ctx.failed("FinLens kept no working HonestBank link")
    client_id = fc.query_of(sent[0]).get("client_id", "tpp")
    new = [app for app in banking.apps()
           if app["grant_id"] not in before and app["client_id"] == client_id]
    if not new or fc.PAYMENT_SCOPE not in new[0]["scope"].split():
        ctx.failed("FinLens's new grant at the bank has no payment permission "
                   f"({new[0]['scope'] if new else 'no new grant'})")
    ctx.succeeded("FinLens holds a grant with payments:write that the user did not mean to "
                  "give (the bank's Connected apps page lists it)", new[0])


ATTACK = Attack(
    id="authz-request-scope-tampering", attacker="UA", legs=(), victim="live",
    title="Extension widens the request the victim approves",
    blocked_by=("par_required", "jar_required", "tpp_checks_granted_scope"),
    premise="An extension in the victim's browser reads and rewrites his front channel; no "
            "back channel, no keys, no capture.",
    goal="FinLens's grant carries payment permission the user did not intend", run=run,
    refs=("F1P2 §8.4.2", "RFC 9101 §5", "RFC 9126 §4", "F1P1 §5.2.3", "RFC 6749 §5.1"),
)
