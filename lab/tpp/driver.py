"""Drive FinLens over HTTP as a browser would: for tests, the scripted victim and attacker flows.

It knows FinLens's pages (forms and data-testid attributes), never its store:
what it reads is what a browser would see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from lab.web.request_id import HEADER


@dataclass
class AccountRow:
    account_id: str
    name: str = ""
    balance: str = ""
    currency: str = ""


@dataclass
class LinkSection:
    link_id: str
    institution: str
    status: str
    accounts: list[AccountRow] = field(default_factory=list)


@dataclass
class DashboardPage:
    links: list[LinkSection]
    totals: dict[str, str]
    transactions: int


class _DashboardParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = DashboardPage([], {}, 0)
        self._text_into: tuple[Any, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        testid = a.get("data-testid")
        if testid == "link":
            self.page.links.append(LinkSection(a.get("data-link-id", ""),
                                               a.get("data-institution", ""),
                                               a.get("data-status", "")))
        elif testid == "account-row" and self.page.links:
            self.page.links[-1].accounts.append(AccountRow(a.get("data-account-id", "")))
        elif testid == "account-name" and self.page.links and self.page.links[-1].accounts:
            self._text_into = (self.page.links[-1].accounts[-1], "name")
        elif testid == "account-balance" and self.page.links and self.page.links[-1].accounts:
            row = self.page.links[-1].accounts[-1]
            row.balance, row.currency = a.get("data-amount", ""), a.get("data-currency", "")
        elif testid == "total":
            self.page.totals[a.get("data-currency", "")] = a.get("data-amount", "")
        elif testid == "transaction-row":
            self.page.transactions += 1

    def handle_data(self, data: str) -> None:
        if self._text_into is not None:
            obj, attr = self._text_into
            setattr(obj, attr, getattr(obj, attr) + data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._text_into = None


class _FormParser(HTMLParser):
    """The hidden fields of the interstitial's redeem form."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == "redeem-form":
            self.found = self._inside = True
        elif tag == "input" and self._inside and a.get("type") == "hidden":
            self.fields.append((a.get("name", ""), a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class _FragmentParser(HTMLParser):
    """Where the fragment page's script posts the fragment (its form's action)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "fragment-post":
            self.action = a.get("action") or "/callback"


def fragment_action(html: str) -> str | None:
    """The fragment page's form action, or None when the page is not the fragment page."""
    parser = _FragmentParser()
    parser.feed(html)
    return parser.action


def parse_dashboard(html: str) -> DashboardPage:
    parser = _DashboardParser()
    parser.feed(html)
    return parser.page


def bank_identity(html: str) -> tuple[str, str] | None:
    """(issuer, subject) of the dashboard's "Signed in with your bank" line, if any."""
    match = re.search(r'data-testid="bank-identity" data-issuer="([^"]*)" '
                      r'data-subject="([^"]*)"', html)
    return (unescape(match.group(1)), unescape(match.group(2))) if match else None


def redeem_form(html: str) -> list[tuple[str, str]] | None:
    """The interstitial's form fields, or None when the page is not the interstitial."""
    parser = _FormParser()
    parser.feed(html)
    return parser.fields if parser.found else None


class TppBrowser:
    """One browser (one cookie jar) at FinLens."""

    def __init__(self, tpp_url: str, ca_path: str) -> None:
        self.base = tpp_url.rstrip("/")
        self.http = requests.Session()
        self.http.verify = ca_path
        self.http.trust_env = False   # else $REQUESTS_CA_BUNDLE overrides verify

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/"))

    def sign_in(self, username: str) -> requests.Response:
        return self.http.post(self.url("/signin"), data={"username": username},
                              allow_redirects=False)

    def start_link(self, institution: str = "honestbank") -> str:
        """Click "Link <institution>"; return the authorization request URL (not followed)."""
        response = self.http.post(self.url(f"/link/{institution}"), allow_redirects=False)
        if response.status_code != 303:
            raise RuntimeError(f"link did not start: {response.status_code} {response.text[:200]}")
        return response.headers["Location"]

    def start_payment(self, link_id: str, amount: str = "25.00", payee: str = "corner-cafe",
                      reference: str = "Coffee") -> str:
        """Open "Pay" on a link and continue to the bank; return the authorization URL."""
        response = self.http.post(self.url(f"/pay/{link_id}"), allow_redirects=False,
                                  data={"payee": payee, "amount": amount, "currency": "EUR",
                                        "reference": reference})
        if response.status_code != 303:
            raise RuntimeError(f"payment did not start: {response.status_code} "
                               f"{response.text[:200]}")
        return response.headers["Location"]

    def deliver(self, callback_url: str, *, run_script: bool = True) -> requests.Response:
        """Open the callback URL as the browser; on the legacy interstitial, let its script post.

        Returns the last response (a 303 to the dashboard on success, an error page if refused).
        The first response is on `.history` when the interstitial was submitted.
        """
        first = self.http.get(callback_url, allow_redirects=False)
        fields = redeem_form(first.text) if first.status_code == 200 else None
        action = "/callback"
        fragment = urlsplit(callback_url).fragment
        if fields is None and fragment and first.status_code == 200:
            # The fragment page's script posts the fragment (OIDC §3.3.2.5, §15.5.3).
            action = fragment_action(first.text) or ""
            fields = parse_qsl(fragment, keep_blank_values=True) if action else None
        if fields is None or not run_script:
            return first
        second = self.http.post(self.url(action), data=fields, allow_redirects=False)
        second.history = [first]
        return second

    def sign_in_with_bank(self, institution: str = "honestbank") -> str:
        """Click "Sign in with <institution>"; return the authentication request URL."""
        response = self.http.post(self.url(f"/signin/bank/{institution}"),
                                  allow_redirects=False)
        if response.status_code != 303:
            raise RuntimeError(f"sign-in did not start: {response.status_code} "
                               f"{response.text[:200]}")
        return response.headers["Location"]

    def identity(self) -> tuple[str, str] | None:
        """(issuer, subject) the dashboard says this browser is signed in with, if any."""
        response = self.http.get(self.url("/dashboard"), allow_redirects=False)
        return bank_identity(response.text) if response.status_code == 200 else None

    def post_callback(self, fields: dict[str, str], path: str = "/callback"
                      ) -> requests.Response:
        """A form_post / fragment form-post delivery of an authorization response (to the
        sign-in callback with path="/signin/callback")."""
        return self.http.post(self.url(path), data=fields, allow_redirects=False)

    def dashboard(self) -> DashboardPage:
        response = self.http.get(self.url("/dashboard"))
        response.raise_for_status()
        return parse_dashboard(response.text)

    def request_ids(self, response: requests.Response) -> list[str]:
        """Request ids of this response and the ones it followed from (to look up events)."""
        chain = [*response.history, response]
        return [r.headers[HEADER] for r in chain if r.headers.get(HEADER)]


def user_agent(config: Any, store: Any, username: str = "alice", **kwargs: Any) -> Any:
    """The AS-side scripted victim (lab.useragent) for `username`, trusting only the lab CA."""
    from lab.useragent import HttpUserAgent

    session = requests.Session()
    session.trust_env = False   # else $REQUESTS_CA_BUNDLE overrides verify
    return HttpUserAgent.for_lab(config, store, username=username, session=session, **kwargs)


def link(browser: TppBrowser, agent: Any, institution: str = "honestbank") -> requests.Response:
    """Click "Link", sign in and consent at the AS, come back: the whole flow, one call."""
    result = agent.authorize(browser.start_link(institution))
    if result.callback_url is None:
        raise RuntimeError(f"the AS did not redirect back: {result.params}")
    return browser.deliver(result.callback_url)
