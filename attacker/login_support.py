"""The attacker's own sign-in attempts at the AS (CS, and A1 in its own browser): its login
pages, the password grant, consent — separate from the token and insider helpers of
attacker/token_support.py, which it builds on."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from lab import clock, keys
from lab.jose import b64
from lab.tpp import assertion
from lab.useragent import parse_forms

from . import net
from . import token_support as ts
from .attack_context import AttackContext
from .outcome import AttackSetupError

ROPC_CLIENT_KEY = "attacker_ropc_client"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 §4.1-4.2: a verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, b64.sha256(verifier)


def attacker_session(ctx: AttackContext) -> requests.Session:
    """A fresh browser-like client of the attacker's, from 127.0.0.2 (own cookie jar)."""
    return ctx.new_http()


def own_login_page(ctx: AttackContext, http: requests.Session, *,
                   meta: dict[str, Any] | None = None, quiet: bool = False) -> requests.Response:
    """The AS login page for an authorization request of the attacker's own client, pushed
    first when the AS requires PAR (RFC 9126 §5), with PKCE S256 (RFC 7636)."""
    meta = meta or ts.metadata(ctx)
    client = ctx.own_client()
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client["client_id"],
              "redirect_uri": client["redirect_uri"], "scope": "openid accounts:read",
              "state": secrets.token_urlsafe(16), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params = ctx.own_request(meta, params)
    authorize = str(meta["authorization_endpoint"])
    if meta.get("require_pushed_authorization_requests"):
        par_url = str(meta["pushed_authorization_request_endpoint"])
        data = {**params, **ctx.own_client_auth("par")}
        pushed = http.post(par_url, data=data, timeout=30) if quiet else ctx.send(
            "POST", par_url, http=http, data=data, what="pushes its own client's request (PAR)")
        request_uri = ts.json_body(pushed).get("request_uri")
        if pushed.status_code not in (200, 201) or not isinstance(request_uri, str):
            raise AttackSetupError(f"the attacker's PAR failed: {pushed.status_code}")
        url = authorize + "?" + urlencode({"client_id": client["client_id"],
                                           "request_uri": request_uri})
    else:
        url = authorize + "?" + urlencode(params)
    page = http.get(url, timeout=30) if quiet else ctx.send(
        "GET", url, http=http, what="opens the AS login page with its own client's request")
    if page.status_code != 200 or not login_form(page):
        raise AttackSetupError(f"the AS showed no login page: {page.status_code}")
    return page


def login_form(page: requests.Response) -> tuple[str, list[tuple[str, str]]] | None:
    """(action URL, hidden fields) of the AS page's login, mfa or consent form."""
    for form in parse_forms(page.text):
        if form.step in ("login", "mfa", "consent"):
            return urljoin(page.url, form.action), form.fields
    return None


def signed_in(response: requests.Response) -> str | None:
    """Where a password POST led: "mfa" (the password was right, a second factor is asked),
    "consent" (signed in on the password alone), or None (refused)."""
    if response.is_redirect and "/consent" in response.headers.get("Location", ""):
        return "consent"
    if response.status_code == 200 and any(f.step == "mfa" for f in parse_forms(response.text)):
        return "mfa"
    return None


def ropc_client_auth(ctx: AttackContext) -> dict[str, str]:
    """private_key_jwt for a client of the attacker's registered for the password grant (RFC
    7591; registration is open, BCP §2.4's reason to turn the grant off). Where the AS will
    not register one, its ordinary client tries the grant anyway."""
    saved = ctx.store.get_setting(ROPC_CLIENT_KEY)
    if not (isinstance(saved, dict) and saved.get("issuer") == ctx.config.issuer):
        private = keys.ensure_keyset(ctx.config.keys_dir, "attacker", ("ES256",))
        body = {"client_name": "EvilApp CLI", "grant_types": ["password", "refresh_token"],
                "response_types": [], "token_endpoint_auth_method": "private_key_jwt",
                "jwks": keys.public_jwks(private),
                "scope": "openid accounts:read transactions:read payments:write offline_access"}
        response = ctx.http.post(ctx.url("as", "/register"), json=body, timeout=30)
        if response.status_code != 201:
            ctx.step("attacker", "cannot register a password-grant client (the AS does not "
                     "offer the grant): tries with its ordinary client",
                     status=response.status_code)
            return ctx.own_client_auth("token")
        saved = {"issuer": ctx.config.issuer, "client_id": response.json()["client_id"]}
        ctx.store.set_setting(ROPC_CLIENT_KEY, saved)
    client_id = str(saved["client_id"])
    private = keys.ensure_keyset(ctx.config.keys_dir, "attacker", ("ES256",))
    signed = assertion.Signer(client_id, keys.signing_key(private, "ES256"), "ES256",
                              now=lambda: clock.now_int(ctx.store)).make(ctx.config.issuer)
    return {"client_id": client_id, "client_assertion_type": JWT_BEARER,
            "client_assertion": signed}


def password_login(ctx: AttackContext, http: requests.Session, page: requests.Response,
                   username: str, password: str, *, what: str) -> requests.Response:
    """Fill the AS login form of `page` with a username and password (story step)."""
    form = login_form(page)
    if form is None:
        raise AttackSetupError("the AS page has no login form")
    action, fields = form
    return ctx.send("POST", action, http=http, what=what,
                    data=[*fields, ("username", username), ("password", password)])


def consent_everything(ctx: AttackContext, http: requests.Session,
                       response: requests.Response) -> requests.Response:
    """Follow to the consent page and approve every account and permission offered."""
    page = ctx.send("GET", urljoin(response.url, response.headers["Location"]), http=http,
                    what="opens the consent page")
    forms = [f for f in parse_forms(page.text) if f.step == "consent"]
    if not forms:
        raise AttackSetupError(f"the AS showed no consent page: {page.status_code}")
    form = forms[0]
    ticked = [(box.get("name", ""), box.get("value", "")) for box in form.checkboxes]
    return ctx.send("POST", urljoin(page.url, form.action), http=http,
                    data=[*form.fields, *ticked, ("action", "approve")],
                    what="ticks every account and permission and approves")


def device_form(page: requests.Response) -> tuple[str, list[tuple[str, str]]] | None:
    """(action URL, hidden fields) of the AS page asking for a confirmation on the customer's
    registered device (risk_based_auth), if that is the page."""
    for form in parse_forms(page.text):
        if form.step == "device":
            return urljoin(page.url, form.action), form.fields
    return None


def victim_declines_on_phone(ctx: AttackContext, username: str) -> None:
    """The customer's phone (the lab's /lab/device page) shows a sign-in she did not start,
    from the attacker's address: she declines it."""
    _answer_on_phone(ctx, username, "decline", actor="victim")
    ctx.step("victim", f"{username}'s phone asks whether the sign-in from the attacker's "
             "address is hers: it is not, she declines")


def attacker_approves_on_own_phone(ctx: AttackContext, username: str) -> None:
    """The attacker's own customer (mallory): its own phone, so it approves its own sign-in.
    risk_based_auth asking for it is no refusal of the attack."""
    _answer_on_phone(ctx, username, "approve", actor="attacker")
    ctx.step("attacker", f"approves the sign-in on {username}'s phone, its own")


def _answer_on_phone(ctx: AttackContext, username: str, answer: str, *, actor: str) -> None:
    phone = net.session(str(ctx.config.ca_cert_path), source=None)   # the phone, not 127.0.0.2
    url = ctx.config.as_url + "/lab/device"
    page = phone.get(url, params={"user": username}, timeout=30)
    ctx.note_request(page, actor=actor)
    for form in parse_forms(page.text):
        if form.step == "phone":
            sent = phone.post(url, data=[*form.fields, ("answer", answer)], timeout=30)
            ctx.note_request(sent, actor=actor)



def stop_if_device_asked(ctx: AttackContext, http: requests.Session,
                         answer: requests.Response, username: str) -> None:
    """When the AS asks the customer's phone (risk_based_auth), she declines and the
    attacker's next step is refused: the run ends there (GoalMissed)."""
    device = device_form(answer)
    if device is None:
        return
    victim_declines_on_phone(ctx, username)
    tried = ctx.send("POST", device[0], http=http, data=device[1],
                     what=f"continues the sign-in, as if {username} had approved it")
    ctx.failed(f"the AS asked for a confirmation on {username}'s phone and they declined",
               tried)
