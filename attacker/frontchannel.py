"""Front-channel tools of the attacks in attacks.md §3 D and E: the attacker's own browser,
codes read off the authorization-response leg, and the checks that tell whose accounts a
FinLens dashboard shows.

The attacker's browser is a real one at FinLens and at the AS (one cookie jar, from
127.0.0.2, trusting only the lab CA). It signs in to FinLens as mallory-<run tag>, starts
"Link HonestBank" like any user and drives the AS's pages; it never reads a store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import requests

from lab.domain import ledger
from lab.tpp.driver import DashboardPage, TppBrowser, parse_dashboard
from lab.useragent import AuthorizationResult, Form, HttpUserAgent
from lab.web.request_id import HEADER

from . import login_support as ls
from .attack_context import AttackContext
from .capture_view import Leaked
from .forge import MALLORY
from .victim import HttpVictim, VictimRefused

# What FinLens asks every bank for (visible in any of its query-mode authorization requests).
FINLENS_SCOPE = "openid accounts:read transactions:read offline_access"
PAYMENT_SCOPE = "payments:write"


class AttackerAgent(HttpUserAgent):
    """The attacker at the AS: approves everything it is shown (it wants all it can get).

    relayed_code: a second factor phished from the victim (otp-phishing-relay); otherwise the
    code comes from the attacker's own authenticator (mallory's).
    """

    def __init__(self, *args: Any, relayed_code: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relayed_code = relayed_code

    def second_factor(self) -> str:
        return self.relayed_code if self.relayed_code is not None else super().second_factor()

    def _fill_consent(self, form: Form) -> list[tuple[str, str]]:
        # Every box on the page (accounts, permissions, what else is offered): no knowledge
        # of the bank's ledger.
        ticked = [(box.get("name", ""), box.get("value", "")) for box in form.checkboxes
                  if box.get("name")]
        return [*form.fields, *ticked, ("action", "approve")]


class AttackerBrowser:
    """The attacker's own browser: FinLens (as mallory-<tag>) and the honest AS."""

    def __init__(self, ctx: AttackContext, username: str = "mallory", *,
                 password: str | None = None, relayed_code: str | None = None) -> None:
        self.ctx = ctx
        self.username = username
        self.tpp_user = f"mallory-{ctx.run_tag}"
        ca = str(ctx.config.ca_cert_path)
        self.browser = TppBrowser(ctx.config.tpp_url, ca)
        self.browser.http = ctx.new_http()   # the attacker's address, never the victim's
        self.http = self.browser.http
        self.agent = AttackerAgent.for_lab(ctx.config, ctx.store, username=username,
                                           password=password, session=self.http,
                                           relayed_code=relayed_code)
        if username == MALLORY:
            # The attacker's own customer: its own phone approves its own sign-ins.
            self.agent.confirm_on_device = lambda: ls.attacker_approves_on_own_phone(ctx, username)
        self._signed_in = False

    def _note(self, responses: list[requests.Response]) -> None:
        for response in responses:
            self.ctx.note_request(response, actor="attacker")

    def sign_in(self) -> None:
        if not self._signed_in:
            response = self.browser.sign_in(self.tpp_user)
            self._note([response])
            self.ctx.step("attacker", f"signs in to FinLens as {self.tpp_user} in its own "
                          "browser", status=response.status_code)
            self._signed_in = True

    def start_link(self, institution: str = "honestbank") -> str:
        """Click "Link <institution>" at FinLens: a pending flow in the attacker's session."""
        self.sign_in()
        response = self.http.post(self.browser.url(f"/link/{institution}"),
                                  allow_redirects=False, timeout=30)
        self._note([response])
        if response.status_code != 303:
            self.ctx.failed(f"FinLens did not start the attacker's link: "
                            f"{response.status_code}", response)
        url = response.headers["Location"]
        self.ctx.step("attacker", f"clicks \"Link {institution}\" in its own browser",
                      url=url, status=response.status_code)
        return url

    def authorize(self, url: str, *, stop_before: str | None = None,
                  what: str | None = None) -> AuthorizationResult:
        """Open `url` at the AS as `username`, sign in, pass SCA, consent; do not deliver.

        A refusal (an error page or an error redirect) ends the attack: GoalMissed.
        """
        result = self.agent.authorize(url, stop_before=stop_before)
        self._note(result.history)
        if stop_before and result.stopped_at == stop_before:
            self.ctx.step("attacker", what or f"opens the authorization request and stops on "
                          f"the {stop_before} page", url=url)
            return result
        if result.callback_url is None and (device := ls.device_form(result.response)):
            # risk_based_auth asks the customer's own phone: she did not start this sign-in
            ls.victim_declines_on_phone(self.ctx, self.username)
            tried = self.http.post(device[0], data=device[1], timeout=30)
            self._note([tried])
            self.ctx.step("attacker", "continues the sign-in, as if the victim had approved it",
                          url=device[0], status=tried.status_code)
            self.ctx.failed("the AS asked for a confirmation on the victim's phone and she "
                            "declined", tried)
        if result.callback_url is None or result.error:
            self.ctx.failed(f"the AS refused the attacker's authorization request: "
                            f"{result.error or result.response.status_code}", result.response)
        self.ctx.step("attacker", what or f"signs in at the AS as {self.username}, passes SCA "
                      "and consents; keeps the response", url=result.callback_url)
        return result

    def deliver(self, callback_url: str, what: str) -> requests.Response:
        """Open a callback URL at FinLens in the attacker's browser (the legacy script too)."""
        response = self.browser.deliver(callback_url)
        chain = [*response.history, response]
        self._note(chain)
        self.ctx.step("attacker", what, method="GET", url=callback_url,
                      status=response.status_code, request_id=response.headers.get(HEADER))
        if response.status_code >= 400:
            self.ctx.failed(f"FinLens refused the callback in the attacker's session: "
                            f"{response.status_code}", response)
        return response

    def dashboard(self) -> DashboardPage:
        response = self.http.get(self.browser.url("/dashboard"), timeout=60)
        self._note([response])
        self.ctx.step("attacker", "opens its FinLens dashboard", method="GET",
                      url=response.url, status=response.status_code)
        return parse_dashboard(response.text)


@dataclass
class PendingOwnFlow:
    """The attacker's own pending flow at FinLens: its browser, the state it expects and the
    authorization request FinLens sent its browser to (`url`)."""

    browser: AttackerBrowser
    state: str | None
    url: str = ""

    def asked(self) -> dict[str, str]:
        """What FinLens asked for in this flow (nonce, scope, ...), as its own browser saw it."""
        return request_params(query_of(self.url))


def own_pending_flow(ctx: AttackContext) -> PendingOwnFlow:
    """Start "Link HonestBank" in the attacker's browser and stop at the AS (attacks.md
    code-injection step 1). With PAR the URL hides the state: the attacker then runs its own
    flow through as mallory to read it from the AS's answer, and drops code_M."""
    attacker = AttackerBrowser(ctx)
    url = attacker.start_link()
    state = query_of(url).get("state")
    if state is None:
        result = attacker.authorize(url, what="runs its own flow through as mallory to learn "
                                    "its state (PAR hides it), drops the code")
        state = result.state
    else:
        attacker.authorize(url, stop_before="login")
    return PendingOwnFlow(attacker, state, url)


# --- what the capture and URLs say ---------------------------------------------------------------
def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def request_params(query: dict[str, str]) -> dict[str, str]:
    """An authorization request's parameters, those inside its request object included: JAR
    signs the object, it does not hide it (RFC 9101 §4: encryption is optional), so
    anyone who sees the URL reads it. An encrypted (or unreadable) object stays unread."""
    if "request" not in query:
        return query
    return {**query, **readable_claims(query["request"])}


def readable_claims(token: str) -> dict[str, str]:
    """The string claims of a JWT anyone can read (signed, not encrypted), unverified: what an
    attacker who sees it learns; {} for anything that is not a readable JWT."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return {k: v for k, v in claims.items() if isinstance(v, str)}


def with_query(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced, added or (value None) removed, order kept."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def victims_response(ctx: AttackContext) -> Leaked:
    """The victim's newest authorization response on the authz_response leg (A3b): the AS's
    redirect carrying the code, as the proxy saw it (a closed tab included)."""
    victim_ids = set(ctx.victim_request_ids)
    return ctx.capture.last("authz_response", where=lambda c: c.request_id in victim_ids
                            and "code" in c.location_params())


def response_url(leaked: Leaked) -> str:
    """Where the AS sent the browser: the callback URL with code, state (and iss)."""
    return leaked.header("Location", response=True) or ""


def callback_with(ctx: AttackContext, params: dict[str, str]) -> str:
    return ctx.url("tpp", "/callback") + "?" + urlencode(params)


# --- lures: the victim's browser opens what the attacker sends (A1, attacks.md §1) -----------
def lure_to_callback(victim: HttpVictim, callback_url: str) -> requests.Response:
    """The victim's browser is navigated to FinLens's callback (an attacker page's redirect);
    the legacy interstitial's script runs as in any browser. Refusal: VictimRefused."""
    victim.ctx.step("victim", "is lured to FinLens's callback with the attacker's code",
                    url=callback_url)
    return victim.deliver(callback_url)


def lure_to_authorize(victim: HttpVictim, url: str) -> AuthorizationResult:
    """The victim follows an authorization URL, signs in and consents; the browser then lands
    on FinLens's callback. FinLens may refuse that response (no pending flow of the victim's
    matches it): the code then stays unredeemed and the attack goes on."""
    result = victim.authorize(url, deliver=False)
    if result.callback_url:
        try:
            victim.deliver(result.callback_url)
        except VictimRefused as refused:
            victim.ctx.step("victim", f"FinLens cannot use the response in the victim's "
                            f"session ({refused.summary}); the code stays unredeemed")
    return result


# --- whose accounts (the judge's check, not attacker knowledge) -------------------------------
def account_ids(page: DashboardPage, institution: str = "honestbank") -> list[str]:
    return [a.account_id for link in page.links if link.institution == institution
            and link.status != "revoked" for a in link.accounts]


def owner_of(ctx: AttackContext, ids: list[str]) -> set[str]:
    """The bank customers who own these account ids: how the lab confirms the goal."""
    owners = set()
    for account_id in ids:
        account = ledger.get_account(ctx.store, account_id)
        if account is not None:
            owners.add(str(account["owner"]))
    return owners


def own_iban(ctx: AttackContext, account_type: str = "checking") -> str:
    """The IBAN of the attacker's own account at the honest bank (mallory knows its own)."""
    for account in ledger.accounts_of(ctx.store, "mallory"):
        if account["type"] == account_type:
            return str(account["iban"])
    raise LookupError("mallory has no such account")


def expect_accounts_of(ctx: AttackContext, page: DashboardPage, owner: str, whose: str,
                       ) -> list[str]:
    """Succeed if the dashboard lists `owner`'s HonestBank accounts; else GoalMissed."""
    ids = account_ids(page)
    owners = owner_of(ctx, ids)
    if not ids or owners != {owner}:
        ctx.failed(f"{whose} FinLens dashboard shows no accounts of {owner}"
                   + (f" (it shows {', '.join(sorted(owners))}'s)" if owners else ""))
    return ids


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""
