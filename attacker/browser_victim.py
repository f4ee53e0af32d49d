"""The scripted victim in a real browser: Debian's headless Chromium, driven by Playwright.

`fapi-lab attack ID --browser` (demo mode) and the browser tests use it in place of the fast
HttpVictim (attacker/victim.py), with the same interface and the same story steps: the
victim signs in to FinLens, clicks "Link HonestBank", signs in at the AS, passes SCA,
consents, and his browser — not a script reimplementing it — follows the redirects, runs
the legacy interstitial's and the fragment page's scripts, loads the partner pixel, and
renders the dashboard. Every request still passes the lab's front door, so capture records
the victim's legs and the response ids land in ctx.victim_request_ids.

TLS stays real: Chromium is told the SPKI hash of the lab's server key and nothing else
(never a blanket ignore_https_errors), as tests/browser/conftest.py does.

The authorization response is the AS's redirect away from its own origin (RFC 6749
§4.1.2). A CDP Fetch hook at the response stage of the AS's documents reads it — Location
with any fragment included — before Chromium follows it, and for a victim who "closes the
tab" (link(stop="response"), authorize(deliver=False)) fails that navigation, so the AS
answered but FinLens never receives the code. Playwright's own page.route cannot do this:
it does not see the hops of a redirect.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab import pki
from lab.bank import ledger
from lab.config import LabConfig
from lab.tpp.driver import DashboardPage, parse_dashboard
from lab.useragent import AuthorizationAnswer, HttpUserAgent, callback_params
from lab.web.request_id import HEADER

from .victim import VictimRefused

if TYPE_CHECKING:
    from .attack_context import AttackContext

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
SHOTS_ENV = "FAPI_LAB_SHOTS"
WAIT_MS = 15_000            # any single wait: a page, a navigation, a selector
POLL_MS = 50
MAX_AS_STEPS = 8            # login, mfa, consent, and a few retries at most
AS_STEPS = ("login", "mfa", "consent")
REQUEST_ID = HEADER.lower()


class BrowserVictimError(RuntimeError):
    """The browser could not be started or did not reach the expected page in time."""


def spki_pin(config: LabConfig) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the lab's server certificate (Chromium's
    --ignore-certificate-errors-spki-list format: accept this key, and only it)."""
    cert = x509.load_pem_x509_certificate(
        pki.server_cert(config.pki_dir, config.host).cert.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


class BrowserVictimFactory:
    """`factory(ctx, username, **options)` → a BrowserVictim in a fresh browser context.

    One Chromium is launched on first use, pinned to the first lab's server key. Pass
    `browser` to reuse one already running (a test session's; the caller then owns it —
    the sync Playwright API allows one instance per thread). `shots` (or $FAPI_LAB_SHOTS)
    names a directory for step-by-step screenshots, for demos.
    """

    def __init__(self, shots: str | Path | None = None, *, browser: Any = None,
                 headless: bool = True) -> None:
        shots = shots or os.environ.get(SHOTS_ENV) or None
        self.shots = Path(shots) if shots else None
        self.headless = headless
        self._browser = browser
        self._owns_browser = browser is None
        self._playwright: Any = None
        self._pin: str | None = None
        self._contexts: list[Any] = []
        self._shot_numbers = itertools.count(1)
        self.victims: list[BrowserVictim] = []

    def __call__(self, ctx: AttackContext, username: str = "alice",
                 **options: Any) -> BrowserVictim:
        context = self._launch(ctx.config).new_context()
        self._contexts.append(context)
        victim = BrowserVictim(ctx, username, context=context, shots=self.shots,
                               shot_numbers=self._shot_numbers, **options)
        self.victims.append(victim)
        return victim

    def _launch(self, config: LabConfig) -> Any:
        pin = spki_pin(config)
        if self._browser is not None:
            if self._owns_browser and pin != self._pin:
                raise BrowserVictimError("this browser trusts another lab's server key; use "
                                         "one BrowserVictimFactory per lab")
            return self._browser
        if not Path(CHROMIUM).exists():
            raise BrowserVictimError(f"{CHROMIUM} is missing (apt-get install chromium)")
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=self.headless,
                args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"])
        except Exception as exc:
            self._playwright.stop()
            self._playwright = None
            raise BrowserVictimError(f"could not launch {CHROMIUM}: {exc}") from exc
        self._pin = pin
        return self._browser

    def close(self) -> None:
        """Close every context, and the browser and Playwright if this factory started them."""
        for context in self._contexts:
            with contextlib.suppress(Exception):   # already gone with the browser
                context.close()
        self._contexts.clear()
        if self._owns_browser and self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def __enter__(self) -> BrowserVictimFactory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class BrowserAuthorization(AuthorizationAnswer):
    """The AS's answer as the victim's browser saw it (lab.useragent.AuthorizationResult's
    fields that attacks read): where the AS sent the browser, and that URL's parameters."""

    callback_url: str | None
    params: dict[str, str] = field(default_factory=dict)
    stopped_at: str | None = None
    status: int | None = None


@dataclass
class BrowserLinkResult:
    """How far the victim's "Link <bank>" went (attacker.victim.LinkResult's shape)."""

    authorization: BrowserAuthorization
    delivered: PageVisit | None = None

    @property
    def callback_url(self) -> str | None:
        return self.authorization.callback_url


@dataclass
class PageVisit:
    """The page the browser ended on (the parts of a requests.Response attacks read)."""

    url: str
    status_code: int | None
    text: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Leaving:
    """The AS's redirect off its origin: the authorization response."""

    url: str
    status: int
    from_url: str
    request_id: str | None


class BrowserVictim:
    """One person at one browser (one Chromium context: its own cookies) at FinLens and the AS.

    options as for HttpVictim: tpp_user, and lab.useragent.HttpUserAgent's password,
    accounts, permissions, approve — what this person knows and chooses. `agent` holds them
    (its password and second_factor() are what he would type).
    """

    def __init__(self, ctx: AttackContext, username: str = "alice", *, context: Any,
                 tpp_user: str | None = None, shots: Path | None = None,
                 shot_numbers: itertools.count[int] | None = None,
                 **agent_options: Any) -> None:
        self.ctx = ctx
        self.username = username
        self.tpp_user = tpp_user or f"{username}-{ctx.run_tag}"
        self.agent = HttpUserAgent.for_lab(ctx.config, ctx.store, username=username,
                                           **agent_options)
        self.context = context
        self.shots = shots
        self._shot_numbers = shot_numbers or itertools.count(1)
        self._as = _origin(ctx.config.as_url)
        self._tpp = _origin(ctx.config.tpp_url)
        self._seen_ids: set[str] = set()
        self._documents = 0                       # main-frame DOMContentLoaded count
        self._document: Any = None                # last main-frame non-redirect response
        self._navigations: list[str] = []         # main-frame navigation request URLs
        self._failed: str | None = None           # a main-frame navigation that failed
        self._armed = False                       # an authorization is under way
        self._hold = False                        # fail the AS's redirect off its origin?
        self._held = False
        self._leaving: _Leaving | None = None
        self._signed_in = False
        self.page = context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.set_default_navigation_timeout(WAIT_MS)
        self.page.on("response", self._on_response)
        self.page.on("request", self._on_request)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("domcontentloaded", self._on_dom_content_loaded)
        self._cdp = context.new_cdp_session(self.page)
        # Asked now: CDP calls other than Fetch's hang while a navigation is paused.
        self._frame_id = str(self._cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"])
        self._cdp.on("Fetch.requestPaused", self._on_paused)
        self._cdp.send("Fetch.enable", {"patterns": [
            {"urlPattern": self._as + "/*", "resourceType": "Document",
             "requestStage": "Response"}]})

    @property
    def http(self) -> Any:
        """HttpVictim's requests session has no counterpart: the cookies live in Chromium."""
        raise BrowserVictimError("this attack drives the victim's HTTP session directly "
                                 "(victim.http); run it without --browser")

    @property
    def browser(self) -> Any:
        raise BrowserVictimError("this attack drives the victim's FinLens session directly "
                                 "(victim.browser); run it without --browser")

    # --- at FinLens ------------------------------------------------------------------------
    def sign_in(self) -> None:
        """FinLens's own login is out of the lab's scope: any username signs in."""
        if self._signed_in:
            return
        self._goto(self._tpp + "/", "opens FinLens")
        if self.page.locator("#signin-username").count() == 0:
            raise BrowserVictimError(f"no FinLens sign-in form at {self.page.url}")
        self.page.fill("#signin-username", self.tpp_user)
        self._act(lambda: self.page.click("#signin-submit"), "signs in to FinLens")
        self._shot("finlens-signed-in")
        self.ctx.step("victim", f"signs in to FinLens as {self.tpp_user}",
                      status=self._status())
        if self._status_code() >= 400:
            raise VictimRefused(f"FinLens refused the sign-in: {self._status()}",
                                self._refusal())
        self._signed_in = True

    def link(self, institution: str = "honestbank", *,
             stop: str | None = None) -> BrowserLinkResult:
        """Click "Link <institution>", sign in at the AS, pass SCA, consent, come back.

        stop: "login"/"mfa"/"consent" pauses on that page (a slow victim); "response"
        closes the tab once the AS answered, so the code stays unredeemed (attacks.md §0).
        """
        self.sign_in()
        self._goto(self._tpp + "/link", "opens \"Link accounts\"")
        button = self.page.locator(f"[data-testid=link-institution-{institution}]")
        if button.count() == 0:
            raise VictimRefused(f"FinLens could not start the link: no {institution!r} "
                                "on its \"Link accounts\" page")
        self._begin(hold=stop == "response")
        try:
            return self._link(institution, button, stop)
        finally:
            self._end()

    def _link(self, institution: str, button: Any, stop: str | None) -> BrowserLinkResult:
        mark = len(self._navigations)
        self._act(button.click, f"clicks \"Link {institution}\"")
        url = next((u for u in self._navigations[mark:] if _origin(u) == self._as),
                   self.page.url)
        self.ctx.step("victim", f"clicks \"Link {institution}\"", url=url)
        if _origin(self.page.url) != self._as and self._leaving is None:
            raise VictimRefused(f"FinLens could not start the link: {self._status()}",
                                self._refusal())
        pause = stop if stop in AS_STEPS else None
        stopped = self._through_as(pause)
        if stopped:
            self.ctx.step("victim", f"pauses on the {stopped} page", url=self.page.url)
            return BrowserLinkResult(BrowserAuthorization(None, stopped_at=stopped))
        authorization = self._authorization("the AS refused the victim's authorization "
                                            "request")
        if stop == "response":
            self.ctx.step("victim", "closes the tab: the code is never delivered to FinLens",
                          url=authorization.callback_url)
            return BrowserLinkResult(authorization)
        self.ctx.step("victim", "is sent back to FinLens with the AS's authorization response",
                      url=authorization.callback_url)
        return BrowserLinkResult(authorization, self._back_at_finlens())

    def deliver(self, callback_url: str) -> PageVisit:
        """The browser opens FinLens's redirect endpoint (the legacy interstitial's script
        posts the response; the fragment page posts its fragment)."""
        self._goto(callback_url, "opens FinLens's callback", check=False)
        return self._back_at_finlens()

    def dashboard(self) -> DashboardPage:
        """Open the dashboard: FinLens calls the bank (the resource legs)."""
        self._goto(self._tpp + "/dashboard", "opens the FinLens dashboard", check=False)
        self._shot("finlens-dashboard")
        self.ctx.step("victim", "opens the FinLens dashboard", url=self.page.url,
                      status=self._status())
        return parse_dashboard(self.page.content())

    def visit(self, url: str) -> PageVisit:
        """Follow a link (a lure): the browser opens it and follows where it leads."""
        self._goto(url, "follows a link", check=False)
        self._shot("visit")
        visit = self._visit()
        self.ctx.step("victim", "follows a link", url=url, status=visit.status_code)
        return visit

    def authorize(self, url: str, *, deliver: bool = True) -> BrowserAuthorization:
        """Follow a lure that leads to the AS, log in and consent; deliver the response
        (deliver=False: the browser never leaves the AS with it — a closed tab)."""
        self.sign_in()
        self._begin(hold=not deliver)
        try:
            return self._authorize(url, deliver)
        finally:
            self._end()

    def _authorize(self, url: str, deliver: bool) -> BrowserAuthorization:
        self._goto(url, "follows the link to the AS", check=False)
        if self._leaving is None and _origin(self.page.url) != self._as:
            raise VictimRefused("the lure did not lead the victim's browser to the AS: "
                                f"{self._status()} at {self.page.url}", self._refusal())
        self._through_as(None)
        authorization = self._authorization("the AS refused the request the victim was "
                                            "lured into")
        self.ctx.step("victim", f"signs in as {self.username} and consents",
                      url=authorization.callback_url)
        if deliver:
            self._settle_auto_posts()
            self._shot("after-authorize")
            self.ctx.step("victim", "follows the AS's redirect",
                          url=self.page.url, status=self._status(),
                          error=self._failed)
        return authorization

    # --- at the AS -------------------------------------------------------------------------
    def _through_as(self, stop: str | None) -> str | None:
        """Act on the AS's pages until the browser leaves the AS (or reaches `stop`)."""
        last: str | None = None
        for _ in range(MAX_AS_STEPS):
            if self._leaving is not None:
                return None
            if _origin(self.page.url) != self._as:
                return None   # left without a redirect we saw: _authorization() refuses
            form = self.page.locator("form[data-step]")
            step = form.first.get_attribute("data-step") if form.count() else None
            if step is None or step not in AS_STEPS:
                self._shot("as-refused")
                return None
            self._shot(f"as-{step}")
            if step == stop:
                return step
            message = self.page.locator("main .error")
            if step == last and message.count():
                raise VictimRefused(f"the AS did not accept the victim's {step}: "
                                    f"{message.first.inner_text().strip()}", self._refusal())
            getattr(self, f"_fill_{step}")()
            last = step
        raise BrowserVictimError(f"the AS flow did not finish (still at {self.page.url})")

    def _fill_login(self) -> None:
        self.page.fill("#username", self.username)
        self.page.fill("#password", self.agent.password)
        self._act(lambda: self.page.click("form[data-step=login] button[type=submit]"),
                  "signs in at the AS")
        self.ctx.step("victim", f"signs in at the AS as {self.username}",
                      url=self.page.url, status=self._status())

    def _fill_mfa(self) -> None:
        code = self.agent.second_factor()   # his authenticator app, or his phone's SMS
        self.page.fill("#code", code)
        self._act(lambda: self.page.click("form[data-step=mfa] button[value=verify]"),
                  "enters the second factor")
        self.ctx.step("victim", "enters his one-time code (SCA)", url=self.page.url,
                      status=self._status())

    def _fill_consent(self) -> None:
        if not self.agent.approve:
            self._act(lambda: self.page.click("form[data-step=consent] button[value=deny]"),
                      "denies")
            self.ctx.step("victim", "denies the request on the consent page")
            return
        wanted = {str(a["id"]): str(a["type"])
                  for a in ledger.accounts_of(self.ctx.store, self.username)
                  if a["type"] in self.agent.accounts}
        ticked = []
        for box in self.page.locator("form[data-step=consent] input[name=account]").all():
            value = box.get_attribute("value") or ""
            box.set_checked(value in wanted)
            if value in wanted:
                ticked.append(wanted[value])
        for box in self.page.locator("form[data-step=consent] input[name^='perm:']").all():
            account = (box.get_attribute("name") or "")[5:]
            permission = box.get_attribute("value") or ""
            box.set_checked(account in wanted and (self.agent.permissions is None
                                                   or permission in self.agent.permissions))
        self._shot("as-consent-ticked")
        self._act(lambda: self.page.click("form[data-step=consent] button[value=approve]"),
                  "approves")
        self.ctx.step("victim", f"shares {' + '.join(ticked) or 'nothing'} and approves")

    def _authorization(self, refusal: str) -> BrowserAuthorization:
        """The authorization response the browser got, or VictimRefused (an error page, or
        an error redirect)."""
        leaving = self._leaving
        if leaving is None:
            raise VictimRefused(f"{refusal}: {self._status()}", self._refusal())
        params = callback_params(leaving.url)
        authorization = BrowserAuthorization(leaving.url, params, status=leaving.status)
        if authorization.error:
            raise VictimRefused(f"{refusal}: {authorization.error}",
                                {"status": leaving.status, "url": leaving.from_url,
                                 "request_id": leaving.request_id, "location": leaving.url,
                                 "body": ""})
        return authorization

    # --- back at FinLens -------------------------------------------------------------------
    def _back_at_finlens(self) -> PageVisit:
        self._settle_auto_posts()
        self._shot("finlens-back")
        visit = self._visit()
        if self._failed or (visit.status_code or 0) >= 400:
            raise VictimRefused(f"FinLens refused the authorization response: "
                                f"{self._failed or visit.status_code}", self._refusal())
        self.ctx.step("victim", "is back at FinLens", url=visit.url, status=visit.status_code)
        return visit

    def _settle_auto_posts(self) -> None:
        """Wait while the page is FinLens's interstitial (redeems by script after 1.5 s) or
        fragment page (posts the fragment at once): the browser runs them, we wait."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while self._auto_posting():
            if time.monotonic() > deadline:
                raise BrowserVictimError(f"FinLens's page did not move on: {self.page.url}")
            self.page.wait_for_timeout(POLL_MS * 4)
        self.page.wait_for_load_state("domcontentloaded")

    def _auto_posting(self) -> bool:
        if self._failed:
            return False
        try:
            if self.page.locator("[data-testid=redeem-form]").count():
                return True
            fragment = self.page.locator("[data-testid=fragment-page]")
            return bool(fragment.count()) and \
                self.page.locator("#nothing").get_attribute("hidden") is not None
        except Exception:   # the page navigated while we looked: still moving
            return True

    # --- plumbing --------------------------------------------------------------------------
    def _begin(self, *, hold: bool) -> None:
        """A new authorization: forget the last response; hold it at the AS if asked."""
        self._armed, self._hold, self._held, self._leaving = True, hold, False, None

    def _end(self) -> None:
        self._armed = self._hold = False

    def _goto(self, url: str, what: str, *, check: bool = True) -> None:
        self._act(lambda: self._navigate(url), what)
        if check and self._status_code() >= 400:
            raise VictimRefused(f"{what}: {self._status()}", self._refusal())

    def _navigate(self, url: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.goto(url, wait_until="commit")
        except PlaywrightError as exc:
            if not self._held and not self._failed:
                self._failed = str(exc).splitlines()[0]

    def _act(self, action: Callable[[], Any], what: str) -> None:
        """Do `action`, then wait until a new document is loaded, or the navigation was held
        at the AS, or it failed (≤ WAIT_MS)."""
        before, self._failed = self._documents, None
        action()
        deadline = time.monotonic() + WAIT_MS / 1000
        while self._documents == before and not self._held and not self._failed:
            if time.monotonic() > deadline:
                raise BrowserVictimError(f"the victim {what}, but no page loaded within "
                                         f"{WAIT_MS // 1000} s (at {self.page.url})")
            self.page.wait_for_timeout(POLL_MS)
        if self._documents != before:
            self.page.wait_for_load_state("domcontentloaded")

    def _on_paused(self, event: dict[str, Any]) -> None:
        """CDP Fetch, response stage, AS documents: spot (and maybe hold) the redirect that
        leaves the AS: RFC 6749 §4.1.2's authorization response."""
        request_id = event["requestId"]
        headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
        self._note_id(headers.get(REQUEST_ID))
        status = int(event.get("responseStatusCode") or 0)
        location = headers.get("location")
        url = event["request"]["url"]
        if 300 <= status < 400 and location and event.get("frameId") == self._frame_id:
            target = urljoin(url, location)
            if _origin(target) != self._as and self._leaving is None and self._armed:
                self._leaving = _Leaving(target, status, url, headers.get(REQUEST_ID))
                if self._hold:
                    self._held = True
                    self._cdp.send("Fetch.failRequest", {"requestId": request_id,
                                                         "errorReason": "Aborted"})
                    return
        self._cdp.send("Fetch.continueRequest", {"requestId": request_id})

    def _on_response(self, response: Any) -> None:
        self._note_id(response.headers.get(REQUEST_ID))
        if self._is_main_navigation(response.request) and not 300 <= response.status < 400:
            self._document = response

    def _on_request(self, request: Any) -> None:
        if self._is_main_navigation(request):
            self._navigations.append(request.url)

    def _on_request_failed(self, request: Any) -> None:
        if self._is_main_navigation(request) and not self._held:
            self._failed = f"{request.failure or 'failed'} ({request.url})"

    def _on_dom_content_loaded(self, _page: Any) -> None:
        self._documents += 1

    def _is_main_navigation(self, request: Any) -> bool:
        try:
            return bool(request.is_navigation_request()) and request.frame == self.page.main_frame
        except Exception:   # a request without a frame (service worker): not ours
            return False

    def _note_id(self, request_id: str | None) -> None:
        if request_id and request_id not in self._seen_ids:
            self._seen_ids.add(request_id)
            self.ctx.victim_request_ids.append(request_id)

    def _status_code(self) -> int:
        return int(self._document.status) if self._document is not None else 0

    def _status(self) -> int | None:
        return self._status_code() or None

    def _visit(self) -> PageVisit:
        document = self._document
        try:
            text = self.page.content()
        except Exception:
            text = ""
        headers = dict(document.headers) if document is not None else {}
        return PageVisit(self.page.url, self._status(), text, headers)

    def _refusal(self) -> dict[str, Any]:
        visit = self._visit()
        return {"status": visit.status_code, "url": visit.url,
                "request_id": visit.headers.get(REQUEST_ID), "body": _text_of(self.page),
                "error": self._failed}

    def _shot(self, label: str) -> None:
        if self.shots is None:
            return
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{next(self._shot_numbers):02d}-{self.tpp_user}-{label}.png"
        with contextlib.suppress(Exception):   # a demo screenshot never fails the run
            self.page.screenshot(path=str(path), full_page=True)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _text_of(page: Any) -> str:
    try:
        return str(page.inner_text("body"))[:500]
    except Exception:
        return ""
