"""A fast scripted browser for the lab's victim: logs in at the AS, passes SCA, consents.

    ua = HttpUserAgent.for_lab(lab.config, lab.store, username="alice")
    result = ua.authorize(authorization_url)          # or a TPP URL that redirects there
    result.code, result.state, result.callback_url    # the AS's answer to the client

It drives the AS's real pages over HTTPS (trusting the lab CA) with a
requests.Session, so the AS sees what a browser would send, cookies included.
The second factor is read the way its owner would: alice's and mallory's TOTP
from their authenticator secret, bob's SMS code from the lab's SMS inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests

from lab.config import LabConfig
from lab.domain import customers, ledger
from lab.store.base import Store

DEFAULT_ACCOUNTS = ("checking", "savings")
MAX_HOPS = 15


@dataclass
class Form:
    step: str
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[dict[str, str]] = field(default_factory=list)
    radios: list[dict[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("data-step", ""), a.get("action", ""),
                                   a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            if a.get("type") == "checkbox":
                self.forms[-1].checkboxes.append(a)
            elif a.get("type") == "radio":
                self.forms[-1].radios.append(a)
            elif a.get("type") == "hidden" and a.get("name"):
                self.forms[-1].fields.append((a["name"], a.get("value", "")))


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


# What a JARM response carries besides iss/aud/exp (JARM §2.1), for callback_params.
JARM_PARAMS = ("code", "state", "iss", "error", "error_description", "id_token", "access_token")


class AuthorizationAnswer:
    """What a client reads off the AS's answer: code, state, error (RFC 6749 §4.1.2).

    Mixed into dataclasses that have `callback_url` and `params` (the HTTP agent's and
    the browser victim's results).
    """

    callback_url: str | None
    params: dict[str, str]

    @property
    def code(self) -> str | None:
        return self.params.get("code")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def error(self) -> str | None:
        return self.params.get("error")

    @property
    def ok(self) -> bool:
        return self.callback_url is not None and "error" not in self.params


@dataclass
class AuthorizationResult(AuthorizationAnswer):
    """Where the AS sent the browser back to the client, and everything on the way.

    `callback_url` is the redirect to the client (not followed unless asked);
    `params` merges its query and fragment (code, state, iss, error, id_token, ...).
    `stopped_at` names the step the agent was told to stop before, if any.
    """

    callback_url: str | None
    response: requests.Response
    history: list[requests.Response]
    params: dict[str, str] = field(default_factory=dict)
    stopped_at: str | None = None


def callback_params(url: str) -> dict[str, str]:
    """The response's parameters; a JARM response's (JARM §2.3) read out of its JWT, unchecked
    (the client checks it), next to `response` itself."""
    parts = urlsplit(url)
    merged = {k: v[0] for k, v in parse_qs(parts.query).items()}
    merged.update({k: v[0] for k, v in parse_qs(parts.fragment).items()})
    if "response" in merged:
        merged.update({k: v for k, v in jarm_params(merged["response"]).items()
                       if k not in merged})
    return merged


def jarm_params(token: str) -> dict[str, str]:
    """The response parameters a JARM JWT carries, read without checking it (signed, not
    encrypted: anybody who sees the response can read them)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        return {}
    if not isinstance(claims, dict):
        return {}
    return {k: v for k, v in claims.items() if k in JARM_PARAMS and isinstance(v, str)}


class HttpUserAgent:
    """The scripted victim's browser.

    username / password: the demo user (password defaults to the documented one).
    accounts: account types to tick on the consent page (default checking + savings).
    permissions: permissions to keep per account (default: all that were requested).
    approve: False clicks "Deny".
    amend: True ticks "this changes the access it already has" on the consent page (the
    new consent replaces the user's earlier ones to this app; off, it is one more link).
    store: the lab's store, for the second factor and the ledger's account ids. None for an
    agent that runs where the store is not (a Locust process): it picks accounts by the types
    the consent page shows, and a subclass supplies second_factor().
    """

    def __init__(self, as_url: str, store: Store | None, *, ca_path: str | None = None,
                 username: str = "alice", password: str | None = None,
                 accounts: Iterable[str] = DEFAULT_ACCOUNTS,
                 permissions: Iterable[str] | None = None, approve: bool = True,
                 session: requests.Session | None = None, amend: bool = False) -> None:
        self.as_origin = _origin(as_url)
        self.store = store
        self.username = username
        self.password = password if password is not None else _demo_password(username)
        self.accounts = tuple(accounts)
        self.permissions = tuple(permissions) if permissions is not None else None
        self.approve = approve
        self.amend = amend
        # risk_based_auth's "confirm on your registered phone": who answers it for this user
        # (None: nobody, the flow stops on that page).
        self.confirm_on_device: Callable[[], None] | None = None
        self.session = session or requests.Session()
        if ca_path:
            self.session.verify = ca_path
            # REQUESTS_CA_BUNDLE would override `verify` (psf/requests#3829).
            self.session.trust_env = False

    @classmethod
    def for_lab(cls, config: LabConfig, store: Store, **kwargs: Any) -> HttpUserAgent:
        return cls(config.as_url, store, ca_path=str(config.ca_cert_path), **kwargs)

    # --- the flow -----------------------------------------------------------------------------
    def authorize(self, url: str, *, follow_callback: bool = False,
                  stop_before: str | None = None,
                  on_step: Callable[[str, requests.Response], None] | None = None
                  ) -> AuthorizationResult:
        """Follow `url` to the AS, sign in, pass SCA, consent; return the client redirect.

        stop_before: "login", "mfa" or "consent" stops there (a slow victim or closed tab).
        on_step(step, response) is called on every AS page the agent acts on.
        follow_callback: also GET the client's callback (e.g. to let the TPP redeem the code).
        """
        history: list[requests.Response] = []
        response = self._get_until_page(url, history)
        for _ in range(MAX_HOPS):
            callback = self._callback_location(response)
            if callback is not None:
                return self._finish(callback, response, history, follow_callback)
            forms = parse_forms(response.text) if _is_html(response) else []
            steps = ("login", "mfa", "consent", *(("device",) if self.confirm_on_device else ()))
            step = next((f for f in forms if f.step in steps), None)
            if step is None:
                return AuthorizationResult(None, response, history,
                                           _error_params(response))
            if on_step:
                on_step(step.step, response)
            if stop_before == step.step:
                return AuthorizationResult(None, response, history, stopped_at=step.step)
            data = getattr(self, f"_fill_{step.step}")(step)
            response = self._post(urljoin(response.url, step.action), data, history)
            if response.is_redirect and self._callback_location(response) is None:
                response = self._get_until_page(urljoin(response.url,
                                                        response.headers["Location"]), history)
        raise RuntimeError("the authorization flow did not finish")

    def _fill_device(self, form: Form) -> list[tuple[str, str]]:
        assert self.confirm_on_device is not None
        self.confirm_on_device()      # approved on the phone, the sign-in page continues
        return list(form.fields)

    def _fill_login(self, form: Form) -> list[tuple[str, str]]:
        return form.fields + [("username", self.username), ("password", self.password)]

    def _fill_mfa(self, form: Form) -> list[tuple[str, str]]:
        return form.fields + [("code", self.second_factor()), ("action", "verify")]

    def _fill_consent(self, form: Form) -> list[tuple[str, str]]:
        if not self.approve:
            return form.fields + [("action", "deny")]
        wanted = self.wanted_accounts(form)
        data = list(form.fields)
        for box in form.checkboxes:
            name, value = box.get("name", ""), box.get("value", "")
            account_box = name == "account" and value in wanted
            permission_box = name.startswith("perm:") and name[5:] in wanted and \
                (self.permissions is None or value in self.permissions)
            # Other boxes (offline access, a partner's API) go as the page set them, as a
            # browser sends them.
            other_box = name not in ("account", "") and not name.startswith("perm:") and \
                "checked" in box
            if name == "replaces":
                other_box = self.amend
            if account_box or permission_box or other_box:
                data.append((name, value))
        debtor = self.debtor_account(form)
        if debtor:
            data.append(("debtor_account", debtor))
        return data + [("action", "approve")]

    def debtor_account(self, form: Form) -> str | None:
        """A payment consent (RFC 9396): the account it leaves, the first of the chosen types
        the page offers (checking, by default)."""
        offered = [r for r in form.radios if r.get("name") == "debtor_account"]
        for type_ in self.accounts:
            for radio in offered:
                if radio.get("data-type") == type_:
                    return radio.get("value", "")
        return None

    def wanted_accounts(self, form: Form) -> set[str]:
        """Ids of the user's accounts of the chosen types: from the ledger, or without a store
        from the type each account box on the consent page carries (as a person reads it)."""
        if self.store is None:
            return {box.get("value", "") for box in form.checkboxes
                    if box.get("name") == "account" and box.get("data-type") in self.accounts}
        return {a["id"] for a in ledger.accounts_of(self.store, self.username)
                if a["type"] in self.accounts}

    def second_factor(self) -> str:
        """What the user would type: the TOTP now, or the latest SMS code sent to them."""
        if self.store is None:
            raise RuntimeError("no store to read the second factor from: override second_factor")
        customer = customers.get(self.store, self.username)
        if customer is None:
            raise ValueError(f"unknown user {self.username}")
        if customer["totp_secret"]:
            return customers.totp_now(customer["totp_secret"])
        row = self.store.query_one("SELECT code FROM sms_inbox WHERE username = ? AND used = 0 "
                                   "ORDER BY id DESC LIMIT 1", (self.username,))
        if row is None:
            raise RuntimeError(f"no SMS code waiting for {self.username}")
        return str(row["code"])

    # --- HTTP plumbing ----------------------------------------------------------------------------
    def _get_until_page(self, url: str, history: list[requests.Response]) -> requests.Response:
        for _ in range(MAX_HOPS):
            response = self.session.get(url, allow_redirects=False, timeout=30)
            history.append(response)
            if not response.is_redirect or self._callback_location(response) is not None:
                return response
            url = urljoin(response.url, response.headers["Location"])
        raise RuntimeError("too many redirects")

    def _post(self, url: str, data: list[tuple[str, str]],
              history: list[requests.Response]) -> requests.Response:
        response = self.session.post(url, data=data, allow_redirects=False, timeout=30)
        history.append(response)
        return response

    def _callback_location(self, response: requests.Response) -> str | None:
        """A redirect from the AS to somewhere else is the authorization response."""
        if not response.is_redirect or _origin(response.url) != self.as_origin:
            return None
        target = urljoin(response.url, response.headers["Location"])
        return target if _origin(target) != self.as_origin else None

    def _finish(self, callback: str, response: requests.Response,
                history: list[requests.Response], follow: bool) -> AuthorizationResult:
        if follow:
            final = self.session.get(callback, allow_redirects=True, timeout=30)
            history.append(final)
            response = final
        return AuthorizationResult(callback, response, history, callback_params(callback))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_html(response: requests.Response) -> bool:
    return "text/html" in response.headers.get("Content-Type", "")


def _error_params(response: requests.Response) -> dict[str, str]:
    try:
        body = response.json()
    except ValueError:
        return {"error": f"http_{response.status_code}"}
    return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}


def _demo_password(username: str) -> str:
    for user in customers.DEMO_USERS:
        if user.username == username:
            return user.password
    return ""
