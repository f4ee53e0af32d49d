"""FinLens's side of step-up (RFC 9470 §4, §5): pay; on the bank's challenge, send the user
back to the AS with its acr_values and max_age; after the callback, pay once more.

No Flask here: the web layer hands in the session's dict of pending step-ups and the
order, and gets back what to do. The payment body is the bank's POST /payments body
(docs/architecture.md). The retry happens once: a second challenge is shown to the user,
never answered with a loop of sign-ins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

from lab import context
from lab.config import LabConfig

from . import bank_api, client, dpop_signer, institutions, links, session
from .bank_api import BankUnavailableError, LinkRevokedError, LinkSession
from .client import PendingFlow
from .errors import NoSuchLinkError

SESSION_KEY = "step_up"
MAX_PENDING = 3
# RFC 9470 §3 / RFC 6750 §3: auth-param = token "=" ( token / quoted-string ).
AUTH_PARAM = re.compile(r'([A-Za-z_]+)=(?:"([^"]*)"|([^\s,]+))')
MAX_AGE_LIMIT = 86_400 * 366


@dataclass(frozen=True)
class Challenge:
    """What the bank asked for (RFC 9470 §3): acr values in order, and a maximum age."""

    acr_values: str | None
    max_age: int | None

    def request_params(self) -> dict[str, str]:
        """RFC 9470 §4: the same values as authorization request parameters."""
        params = {}
        if self.acr_values:
            params["acr_values"] = self.acr_values
        if self.max_age is not None:
            params["max_age"] = str(self.max_age)
        return params


@dataclass
class Outcome:
    """paid (the bank's payment), step_up (the challenge) or refused (the bank's error)."""

    kind: str
    payment: dict[str, Any] = field(default_factory=dict)
    challenge: Challenge | None = None
    error: str = ""


def parse_challenge(headers: list[str]) -> Challenge | None:
    """The insufficient_user_authentication challenge among WWW-Authenticate values, if any."""
    for value in headers:
        params = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in AUTH_PARAM.finditer(value[:4096])}
        if params.get("error") != "insufficient_user_authentication":
            continue
        raw_age = params.get("max_age") or ""
        age = int(raw_age) if raw_age.isdigit() and int(raw_age) <= MAX_AGE_LIMIT else None
        acr = params.get("acr_values")
        acr = " ".join(acr.split()[:8])[:200] if acr else None
        return Challenge(acr or None, age)
    return None


def _post(link_session: LinkSession, body: dict[str, Any]) -> requests.Response:
    """POST /payments with the link's token: Bearer, or DPoP with a proof (RFC 9449 §7.1)."""
    url = link_session.inst.api_base.rstrip("/") + "/payments"
    token = str(link_session.link["access_token"])
    http = link_session.http
    try:
        if str(link_session.link.get("token_type") or "").lower() != "dpop":
            return http.post(url, json=body, timeout=bank_api.TIMEOUT,
                             headers={"Authorization": f"Bearer {token}"})
        signer = session.dpop_signer(link_session.config, link_session.inst)
        return dpop_signer.send(lambda extra: http.post(
            url, json=body, timeout=bank_api.TIMEOUT,
            headers={"Authorization": f"DPoP {token}", **extra}),
            signer, "POST", url, access_token=token)
    except requests.RequestException:
        raise BankUnavailableError("bank unreachable") from None


def _link_session(config: LabConfig, user_id: str, link_id: str) -> LinkSession:
    store = context.current().store
    link = links.get_link(store, user_id, link_id)
    inst = institutions.get(store, link["institution_id"]) if link else None
    if link is None or inst is None:
        raise NoSuchLinkError()
    return LinkSession(config, inst, link)


def pay(config: LabConfig, user_id: str, link_id: str, body: dict[str, Any]) -> Outcome:
    """Submit one payment; refresh once on an expired or refused token (RFC 6750 §3.1)."""
    link_session = _link_session(config, user_id, link_id)
    if link_session.link.get("status") != "active":
        raise LinkRevokedError(link_session.link.get("status_reason") or "revoked")
    if link_session._expired():   # by the lab clock, as LinkSession.get does
        link_session.refresh()
    response = _post(link_session, body)
    challenge = parse_challenge([response.headers.get("WWW-Authenticate", "")])
    if response.status_code == 401 and challenge is None:
        link_session.refresh()
        response = _post(link_session, body)
        challenge = parse_challenge([response.headers.get("WWW-Authenticate", "")])
    if response.status_code == 401 and challenge is not None:
        return Outcome("step_up", challenge=challenge)
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code == 201 and isinstance(data, dict):
        return Outcome("paid", payment=data)
    error = data.get("error") if isinstance(data, dict) else None
    return Outcome("refused", error=str(error or f"HTTP {response.status_code}")[:80])


def start(config: LabConfig, user_id: str, link_id: str, challenge: Challenge
          ) -> tuple[str, PendingFlow]:
    """RFC 9470 §4: a new authorization request (through PAR where FinLens uses it) with the
    challenge's acr_values and max_age."""
    link_session = _link_session(config, user_id, link_id)
    return client.start_flow(config, link_session.inst, extra=challenge.request_params())


def remember(pending: object, state: str, link_id: str, body: dict[str, Any]
             ) -> dict[str, Any]:
    """The session's pending step-ups with this one added (the last MAX_PENDING kept)."""
    kept = dict(pending) if isinstance(pending, dict) else {}
    kept = dict(list(kept.items())[-(MAX_PENDING - 1):])
    kept[state] = {"link_id": link_id, "body": body}
    return kept


def take(pending: object, state: object) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the step-up this callback's state answers, or None; the session's dict without it)."""
    kept = dict(pending) if isinstance(pending, dict) else {}
    found = kept.pop(state, None) if isinstance(state, str) else None
    if not isinstance(found, dict) or not isinstance(found.get("link_id"), str) \
            or not isinstance(found.get("body"), dict):
        return None, kept
    return found, kept


def retry(config: LabConfig, user_id: str, found: dict[str, Any]) -> Outcome:
    """The payment again, once, with the tokens of the fresh authentication."""
    outcome = pay(config, user_id, found["link_id"], found["body"])
    if outcome.kind == "step_up":
        return Outcome("refused", error="insufficient_user_authentication")
    return outcome


def accounts(config: LabConfig, user_id: str, link_id: str) -> list[dict[str, Any]]:
    """The link's accounts, for the payment form to choose the debtor from."""
    listed = _link_session(config, user_id, link_id).get("/accounts").get("accounts")
    return [a for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
