"""The scripted victim: one browser (one cookie jar) at FinLens and at the bank's AS.

The HTTP victim is fast (the matrix uses it); lab.useragent logs in, enters the
second factor the way its owner would read it, and consents to checking + savings
(attacks.md §0). Every victim step is written into the attack's story, and every request
its browser sends is noted for the judge: as the victim's own honest flow (a "prior"
attack's linking at HonestBank and dashboard, before the attacker acts) or as "lured"
(anything the attacker shapes: lures, rewrites, a live attack's flow). A control refusing
the own flow makes the run `victim-failed`, never `blocked`: the switch broke FinLens,
it did not stop the attacker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from lab.tpp.driver import DashboardPage, TppBrowser, parse_dashboard
from lab.useragent import AuthorizationResult, HttpUserAgent
from lab.web.request_id import HEADER

from .online_banking import OnlineBanking
from .outcome import GoalMissed

if TYPE_CHECKING:
    from .attack_context import AttackContext


OWN_FLOW = "victim"     # the victim's own honest flow, untouched by the attacker
LURED = "lured"         # the victim's browser sending what the attacker made it send


class VictimRefused(GoalMissed):
    """A step of the victim's flow was refused (so the attack cannot go on); own_flow: it was
    the victim's own honest flow, not a request the attacker shaped."""

    own_flow = False


class OwnFlowMarks:
    """Which of a victim's requests are its own honest flow (OWN_FLOW) and which the attacker
    shaped (LURED); shared by the HTTP victim and the Chromium victim's tab."""

    ctx: AttackContext
    _own_flow: bool = False

    @contextmanager
    def own(self, institution: str = "honestbank", *, shaped: bool = False) -> Iterator[None]:
        """The victim's own flow: a "prior" attack's victim at HonestBank (a live attack's
        victim acts while the attacker does, so all it sends counts as lured). shaped: the
        attacker shapes this step (an extension rewrote it), so it is lured in any attack."""
        before = self._own_flow
        if shaped:
            self._own_flow = False
        elif self.ctx.attack.victim == "prior" and institution == "honestbank":
            self._own_flow = True
        try:
            yield
        except VictimRefused as refused:
            refused.own_flow = self._own_flow
            raise
        finally:
            self._own_flow = before


@dataclass
class LinkResult:
    """How far the victim's "Link <bank>" went."""

    authorization: AuthorizationResult
    delivered: requests.Response | None = None

    @property
    def callback_url(self) -> str | None:
        return self.authorization.callback_url


class HttpVictim(OwnFlowMarks):
    """`username` is the bank customer; the FinLens account is private to this run."""

    renders_pages = False    # a page's images and scripts: attacker.inject.render_callback

    def __init__(self, ctx: AttackContext, username: str = "alice", *,
                 tpp_user: str | None = None, **agent_options: Any) -> None:
        self.ctx = ctx
        self.username = username
        self.tpp_user = tpp_user or f"{username}-{ctx.run_tag}"
        self.browser = TppBrowser(ctx.config.tpp_url, str(ctx.config.ca_cert_path))
        self.http = self.browser.http
        self.agent = HttpUserAgent.for_lab(ctx.config, ctx.store, username=username,
                                           session=self.http, **agent_options)
        self._signed_in = False
        self._own_flow = False
        self.http.hooks["response"].append(
            lambda response, *_, **__: ctx.note_request(response, actor="victim",
                                                        own_flow=self._own_flow))

    # --- at FinLens ------------------------------------------------------------------------
    def sign_in(self) -> None:
        with self.own():
            self._sign_in()

    def _sign_in(self) -> None:
        if not self._signed_in:
            response = self.browser.sign_in(self.tpp_user)
            self._step(f"signs in to FinLens as {self.tpp_user}", response)
            self._signed_in = True

    def _authorize(self, url: str, what: str) -> tuple[AuthorizationResult, str]:
        """Follow `url` at the AS as this victim, noting every response as hers; a refusal
        (no callback, or an error) ends her flow: VictimRefused, naming `what` was refused."""
        result = self.agent.authorize(url)
        for response in result.history:
            self.ctx.note_request(response, actor="victim")
        if result.callback_url is None or result.error:
            raise VictimRefused(f"the AS refused {what}: "
                                f"{result.error or result.response.status_code}",
                                _refusal(result.response))
        return result, result.callback_url

    def sign_in_with_bank(self, institution: str = "honestbank") -> requests.Response:
        """"Sign in with <institution>" at FinLens: the bank's ID token says who he is."""
        with self.own(institution):
            try:
                url = self.browser.sign_in_with_bank(institution)
            except RuntimeError as exc:
                raise VictimRefused(f"FinLens could not start the sign-in: {exc}") from None
            self.ctx.step("victim", f"clicks \"Sign in with {institution}\" at FinLens", url=url)
            _, callback = self._authorize(url, "the victim's sign-in")
            self.ctx.step("victim", f"signs in at the bank as {self.username}")
            delivered = self.deliver(callback)
        self._signed_in = True
        return delivered

    def takes_session_as_his(self) -> None:
        """He sees FinLens signed in and goes on in that session (login CSRF's premise)."""
        self._signed_in = True

    def link(self, institution: str = "honestbank", *, stop: str | None = None,
             rewrite: Callable[[str], str] | None = None) -> LinkResult:
        """Click "Link <institution>", sign in at the AS, pass SCA, consent, come back.

        stop: "login"/"mfa"/"consent" pauses on that page (a slow victim); "response" closes
        the tab once the AS answered, so the code stays unredeemed (attacks.md §0).
        rewrite: an extension in his browser rewrites the authorization request URL on its
        way to the AS (the flow is then the attacker's: lured, never the victim's own).
        """
        with self.own(institution, shaped=rewrite is not None):
            return self._link(institution, stop, rewrite)

    def _link(self, institution: str, stop: str | None,
              rewrite: Callable[[str], str] | None) -> LinkResult:
        self.sign_in()
        try:
            url = self.browser.start_link(institution)
        except RuntimeError as exc:
            raise VictimRefused(f"FinLens could not start the link: {exc}") from None
        self.ctx.step("victim", f"clicks \"Link {institution}\"", url=url)
        if rewrite is not None:
            url = rewrite(url)
        pause = stop if stop in ("login", "mfa", "consent") else None
        result = self.agent.authorize(url, stop_before=pause)
        for response in result.history:
            self.ctx.note_request(response, actor="victim")
        refused = result.callback_url is None or bool(result.error)
        if pause:
            if refused and result.stopped_at != pause:
                # the AS refused before the page he meant to pause on: he never got there
                raise _as_refused(result, rewrite is not None)
            self.ctx.step("victim", f"pauses on the {pause} page")
            return LinkResult(result)
        if result.callback_url is None or result.error:
            raise _as_refused(result, rewrite is not None)
        self.ctx.step("victim", f"signs in as {self.username}, passes SCA and consents")
        if stop == "response":
            self.ctx.step("victim", "closes the tab: the code is never delivered to FinLens")
            return LinkResult(result)
        delivered = self.deliver(result.callback_url)
        return LinkResult(result, delivered)

    def deliver(self, callback_url: str) -> requests.Response:
        """The browser arrives at FinLens's redirect endpoint (the legacy script runs too)."""
        response = self.browser.deliver(callback_url)
        for r in [*response.history, response]:
            self.ctx.note_request(r, actor="victim")
        if response.status_code >= 400:
            raise VictimRefused(f"FinLens refused the authorization response: "
                                f"{response.status_code}", _refusal(response))
        self.ctx.step("victim", "is back at FinLens", status=response.status_code)
        return response

    def dashboard(self) -> DashboardPage:
        """Open the dashboard: FinLens calls the bank (the resource legs)."""
        with self.own():
            response = self.http.get(self.browser.url("/dashboard"), timeout=60)
            self._step("opens the FinLens dashboard", response)
        return parse_dashboard(response.text)

    def pay(self, amount: str = "25.00", payee: str = "corner-cafe") -> requests.Response:
        """Open "Pay" on the HonestBank link, confirm the payment at the bank (its consent page
        shows it), come back: FinLens submits it once (the resource leg's POST /payments)."""
        with self.own():
            active = [x for x in self.browser.dashboard().links if x.status == "active"]
            if not active:
                raise VictimRefused("the victim has no active link at FinLens to pay from")
            link = active[0]
            url = self.browser.start_payment(link.link_id, amount, payee)
            self.ctx.step("victim", f"opens \"Pay\": {amount} EUR to {payee}", url=url)
            _, callback = self._authorize(url, "the payment consent")
            self.ctx.step("victim", "confirms the payment at HonestBank (SCA, consent)")
            done = self.deliver(callback)
            status = self.http.get(self.browser.url(done.headers.get("Location", "/")),
                                   timeout=60)
            self._step("reads the payment's status at FinLens", status)
            if 'data-status="booked"' not in status.text:
                raise VictimRefused("FinLens's payment was not booked", _refusal(status))
            return status

    def online_banking(self) -> OnlineBanking:
        """Sign in to his online banking (password + second factor)."""
        return OnlineBanking(self)

    def visit(self, url: str) -> requests.Response:
        """Follow a link (a lure): GET it and its redirects as the browser would."""
        response = self.http.get(url, timeout=60)
        for r in [*response.history, response]:
            self.ctx.note_request(r, actor="victim")
        self.ctx.step("victim", "follows a link", url=url, status=response.status_code)
        return response

    def authorize(self, url: str, *, deliver: bool = True) -> AuthorizationResult:
        """Follow a lure that leads to the AS, log in and consent; deliver the response."""
        self.sign_in()
        result, callback = self._authorize(url, "the request the victim was lured into")
        self.ctx.step("victim", f"signs in as {self.username} and consents", url=callback)
        if deliver:
            response = self.http.get(callback, allow_redirects=False, timeout=60)
            self.ctx.note_request(response, actor="victim")
        return result

    def _step(self, text: str, response: requests.Response) -> None:
        self.ctx.note_request(response, actor="victim")
        self.ctx.step("victim", text, status=response.status_code)


def _as_refused(result: AuthorizationResult, rewritten: bool) -> VictimRefused:
    """The AS's refusal of the victim's (or the rewritten) request, ending his flow."""
    whose = "the rewritten" if rewritten else "the victim's"
    return VictimRefused(f"the AS refused {whose} authorization request: "
                         f"{result.error or result.response.status_code}",
                         _refusal(result.response))


def _refusal(response: requests.Response) -> dict[str, Any]:
    return {"status": response.status_code, "url": response.url,
            "request_id": response.headers.get(HEADER), "body": response.text[:500]}
