"""One Chromium page the victim acts in, watched so the story can tell what happened.

It waits for each new document (or a failed or held navigation), records the lab's
request ids of every response in ctx.victim_request_ids (and, inside own(), in
ctx.own_flow_request_ids: the victim's own honest flow, as attacker.victim marks it), and
takes demo screenshots.

The authorization response is the AS's redirect away from its own origin (RFC 6749
§4.1.2). A CDP Fetch hook at the response stage of the AS's documents reads it — Location
with any fragment included — before Chromium follows it, and for a victim who "closes the
tab" fails that navigation (`hold`), so the AS answered but FinLens never receives the
code. Playwright's own page.route cannot do this: it does not see the hops of a redirect.
The same hook plays an extension that rewrites the authorization request on its way to
the AS (`rewrite`): it changes the Location of the redirect that sends the browser there,
as a browser extension's redirect rule does, so the AS only ever sees the rewritten one.
"""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from lab.web.request_id import HEADER

from .victim import OwnFlowMarks, VictimRefused

Rewrite = Callable[[str], str]

if TYPE_CHECKING:
    from .attack_context import AttackContext

WAIT_MS = 15_000            # any single wait: a page, a navigation, a selector
POLL_MS = 50
REQUEST_ID = HEADER.lower()


class BrowserVictimError(RuntimeError):
    """The browser could not be started or did not reach the expected page in time."""


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



class BrowserTab(OwnFlowMarks):
    """A page in one browser context (its own cookies), with the hooks described above."""

    def __init__(self, ctx: AttackContext, *, context: Any, label: str,
                 shots: Path | None = None,
                 shot_numbers: itertools.count[int] | None = None) -> None:
        self.ctx = ctx
        self.context = context
        self.shots = shots
        self._label = label                       # in screenshot file names
        self._shot_numbers = shot_numbers or itertools.count(1)
        self._as = origin(ctx.config.as_url)
        self._seen_ids: set[str] = set()
        self._documents = 0                       # main-frame DOMContentLoaded count
        self._document: Any = None                # last main-frame non-redirect response
        self._navigations: list[str] = []         # main-frame navigation request URLs
        self._failed: str | None = None           # a main-frame navigation that failed
        self._armed = False                       # an authorization is under way
        self._hold = False                        # fail the AS's redirect off its origin?
        self._held = False
        self._leaving: _Leaving | None = None
        self._rewrite: Rewrite | None = None      # the extension, for one request
        self._rewritten: set[str] = set()
        self._own_flow = False
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
        self._intercept(rewrite=False)

    def _intercept(self, *, rewrite: bool) -> None:
        """Pause the AS's documents at the response stage (rewrite: every document, to find
        the redirect that sends the browser to the AS's authorization endpoint)."""
        pattern = "*" if rewrite else self._as + "/*"
        self._cdp.send("Fetch.enable", {"patterns": [
            {"urlPattern": pattern, "resourceType": "Document", "requestStage": "Response"}]})

    def _begin(self, *, hold: bool, rewrite: Rewrite | None = None) -> None:
        """A new authorization: forget the last response; hold it at the AS if asked;
        rewrite: the extension rewrites the first authorization request to reach the AS."""
        self._armed, self._hold, self._held, self._leaving = True, hold, False, None
        self._rewrite = rewrite
        if rewrite is not None:
            self._intercept(rewrite=True)

    def _end(self) -> None:
        if self._rewrite is not None or self._rewritten:
            self._intercept(rewrite=False)
        self._armed = self._hold = False
        self._rewrite = None
        self._rewritten.clear()

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
        leaves the AS: RFC 6749 §4.1.2's authorization response. While `rewrite` is set, the
        redirect that sends the browser to the AS's /authorize is rewritten first."""
        request_id = event["requestId"]
        headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
        self._note_id(headers.get(REQUEST_ID))
        status = int(event.get("responseStatusCode") or 0)
        location = headers.get("location")
        url = event["request"]["url"]
        if 300 <= status < 400 and location and event.get("frameId") == self._frame_id:
            target = urljoin(url, location)
            if self._rewrite is not None and urlsplit(target).path == "/authorize" \
                    and origin(target) == self._as and self._rewritten_to(event, target):
                return
            if origin(url) == self._as and origin(target) != self._as \
                    and self._leaving is None and self._armed:
                self._leaving = _Leaving(target, status, url, headers.get(REQUEST_ID))
                if self._hold:
                    self._held = True
                    self._cdp.send("Fetch.failRequest", {"requestId": request_id,
                                                         "errorReason": "Aborted"})
                    return
        self._cdp.send("Fetch.continueRequest", {"requestId": request_id})

    def _rewritten_to(self, event: dict[str, Any], target: str) -> bool:
        """The extension rewrites the first redirect to the AS's authorization endpoint: the
        same response (its cookies too) becomes a page that sends the browser on to the
        rewritten URL at once. (Chromium fails the TLS handshake with the AS, which asks for
        an optional client certificate, when it follows a redirect the Fetch domain changed
        or when the AS's request itself is paused: so a page, not a changed Location.)"""
        rewrite, self._rewrite = self._rewrite, None
        rewritten = rewrite(target) if rewrite is not None else target
        if rewritten == target:
            return False
        self._rewritten.add(rewritten)
        kept = [h for h in event.get("responseHeaders") or []
                if h["name"].lower() not in ("location", "content-type", "content-length")]
        page = (f'<!doctype html><meta http-equiv="refresh" content="0;url='
                f'{html.escape(rewritten, quote=True)}">')
        self._cdp.send("Fetch.fulfillRequest", {
            "requestId": event["requestId"], "responseCode": 200,
            "responseHeaders": [*kept, {"name": "Content-Type", "value": "text/html"}],
            "body": base64.b64encode(page.encode()).decode()})
        return True

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
            if self._own_flow:
                self.ctx.own_flow_request_ids.append(request_id)

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
        path = self.shots / f"{next(self._shot_numbers):02d}-{self._label}-{label}.png"
        with contextlib.suppress(Exception):   # a demo screenshot never fails the run
            self.page.screenshot(path=str(path), full_page=True)



def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _text_of(page: Any) -> str:
    try:
        return str(page.inner_text("body"))[:500]
    except Exception:
        return ""
