"""auth-response-leak-referer: the code leaves in the Referer of a partner image (A1).

attacks.md §3 D. The legacy FinLens callback renders an interstitial with ?code=… in its
address, a PartnerRewards image, and Referrer-Policy: unsafe-url, then redeems by script.
The victim's browser sends the full callback URL, code included, as the image request's
Referer (BCP §4.2.1); PartnerRewards is the attacker's and logs it. The attacker then
injects the code as in code-injection. tpp_referrer_policy handles the response
server-side and 303s to a clean URL with no-referrer (BCP §4.2.4): nothing leaks.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from attacker import fixtures
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import inject_code, render_callback
from attacker.outcome import PKCE_ALONE


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    victim = ctx.victim("alice")
    linked = victim.link(stop="response")
    render_callback(victim, linked.callback_url or "")
    leaked = [r for r in fx.received(ctx, "partner", since=since, path="/pixel.png")
              if "code=" in (r.referer or "")]
    if not leaked:
        ctx.failed("PartnerRewards's image log holds no Referer with a code")
    params = dict(parse_qsl(urlsplit(leaked[-1].referer or "").query))
    ctx.step("attacker", "reads the victim's code from the Referer PartnerRewards logged for "
             "its image")
    inject_code(ctx, params["code"], victim.username, iss=params.get("iss"),
                source="leaked in the Referer")


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
