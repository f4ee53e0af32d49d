"""auth-response-leak-referer: the code leaves in the Referer of a partner image (A1).

attacks.md §3 D. The legacy FinLens callback renders an interstitial with ?code=… in its
address, a PartnerRewards image, and Referrer-Policy: unsafe-url, then redeems by script.
The victim's browser sends the full callback URL, code included, as the image request's
Referer (BCP §4.2.1); PartnerRewards is the attacker's and logs it. The attacker then
injects the code as in code-injection. With JARM the address holds the signed response
instead (response=…): JARM signs it, it does not hide it, so the attacker reads the code in
it and replays the response whole. tpp_referrer_policy handles the response server-side
and 303s to a clean URL with no-referrer (BCP §4.2.4): nothing leaks.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from attacker import fixtures
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import inject_code, render_callback, response_fields
from attacker.outcome import PKCE_ALONE


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    victim = ctx.victim("alice")
    linked = victim.link(stop="response")
    render_callback(victim, linked.callback_url or "")
    leaked = [r for r in fx.received(ctx, "partner", since=since, path="/pixel.png")
              if _response_in(r.referer)]
    if not leaked:
        ctx.failed("PartnerRewards's image log holds no Referer with a code")
    raw = dict(parse_qsl(urlsplit(leaked[-1].referer or "").query))
    params = response_fields(raw)
    ctx.step("attacker", "reads the victim's code from the Referer PartnerRewards logged for "
             "its image" + (" (inside the signed JARM response: signed, not hidden)"
                            if "response" in raw else ""))
    inject_code(ctx, params.get("code", ""), victim.username, iss=params.get("iss"),
                source="leaked in the Referer", response=raw.get("response"))


def _response_in(referer: str | None) -> bool:
    """A callback URL with an authorization response in it: the code, or a JARM JWT (JARM
    §2.3.1: response=…) that holds it."""
    query = dict(parse_qsl(urlsplit(referer or "").query))
    return bool(query.get("code") or query.get("response"))


ATTACK = Attack(
    id="auth-response-leak-referer", attacker="A1 (attacker site)", legs=("own",),
    title="Code leaked through the callback page's Referer",
    blocked_by=("tpp_referrer_policy", "pkce_required", "tpp_checks_nonce", "code_single_use"),
    victim="live",
    premise="Runs PartnerRewards, whose image FinLens's legacy callback page embeds; reads "
            "only its own server's log.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("BCP §4.2.1", "BCP §4.2.4", "BCP §4.5"),
    counts_prevented=("tpp_referrer_policy",),
    not_alone={"pkce_required": PKCE_ALONE},
)
