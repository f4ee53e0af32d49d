"""An attack run as a sequence diagram: who sent what to whom, and where mitmproxy recorded it.

Pure: capture summaries (+ the story) in, a self-contained SVG string out — no JS, no
fonts or stylesheets from anywhere, so the workshop screen works offline. Each captured
exchange is an arrow from its sender to its origin through the Capture lifeline, with a
dot where mitmproxy recorded it: that dot is the leak point an attacker type reads.
This module decides what is drawn; dashboard.sequence_svg draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lab.controls import catalog as controls_catalog

from .sequence_svg import COLOURS, LIFELINES, render, whole

__all__ = ["COLOURS", "LIFELINES", "Arrow", "Diagram", "build", "render", "whole",
           "sender_of", "receiver_of", "short_label"]

ATTACKER_ADDRESS = "127.0.0.2"   # attacker/net.py: the attacker's clients bind it
FRONT_CHANNEL = frozenset({"authz_request", "authz_response", "tpp_ui"})
BACK_CHANNEL = frozenset({"par", "token", "userinfo", "revocation", "introspection",
                          "resource"})
# Documents a client fetches (discovery, keys, registration), not pages a person sees.
CLIENT_PATHS = ("/.well-known/", "/jwks", "/register")
# OAuth errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 9449 §12.2; RFC 7591 §3.2.2;
# RFC 8707; OIDC Core §3.1.2.6) and every refusal of the controls catalog: a 4xx carrying one
# is a refusal, a 404 for /favicon.ico is not.
OAUTH_ERRORS = frozenset({
    "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
    "invalid_scope", "invalid_client", "invalid_grant", "unsupported_grant_type",
    "invalid_token", "insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce",
    "invalid_request_uri", "invalid_request_object", "request_not_supported",
    "invalid_redirect_uri", "invalid_client_metadata", "invalid_target", "login_required",
    "consent_required", "interaction_required", "account_selection_required",
    *(c.refusal.error for c in controls_catalog.CONTROLS if c.refusal.error)})
MAX_ARROWS = 300
LABEL_CHARS = 34


@dataclass(frozen=True)
class Arrow:
    """One exchange (request and its response) or one uncaptured request from the story."""

    number: int
    sender: str
    receiver: str
    label: str
    leg: str
    status: int | None = None
    error: str | None = None
    captured: bool = True
    capture_id: int | None = None
    note: str = ""

    @property
    def attacker(self) -> bool:
        return self.sender == "attacker"

    @property
    def refused(self) -> bool:
        """A 4xx carrying an OAuth error, or an error redirect (RFC 6749 §4.1.2.1): a control
        (or the protocol) said no."""
        return self.status is not None and 300 <= self.status < 500 \
            and self.error in OAUTH_ERRORS


@dataclass
class Diagram:
    arrows: list[Arrow] = field(default_factory=list)
    left_out: int = 0

    def svg(self) -> str:
        return render(self)

    def html(self) -> str:
        return whole(render(self))


def sender_of(exchange: Mapping[str, Any]) -> str:
    """Which lifeline sent a captured exchange (its peer address, then its leg)."""
    if exchange.get("client_addr") == ATTACKER_ADDRESS:
        return "attacker"
    leg = str(exchange.get("leg") or "other")
    if leg in FRONT_CHANNEL:
        return "browser"
    if leg in BACK_CHANNEL:
        return "tpp"
    path = _path(exchange.get("url"))
    if exchange.get("label") in ("as", "bank") and path.startswith(CLIENT_PATHS):
        return "tpp"
    return "browser"   # the AS's login and consent pages, the bank's own web pages


def receiver_of(exchange: Mapping[str, Any]) -> str:
    label = str(exchange.get("label") or "")
    return label if label in ("as", "bank", "tpp") else "attacker"


def _path(url: Any) -> str:
    try:
        return urlsplit(str(url or "")).path or "/"
    except ValueError:   # not a URL (a bracketed host that is no IPv6 address, ...)
        return "/"


def short_label(method: Any, url: Any, leg: Any = None) -> str:
    text = f"{method or 'GET'} {_path(url)}"
    if len(text) > LABEL_CHARS:
        text = text[:LABEL_CHARS - 1] + "…"
    return f"{text} · {leg}" if leg and leg != "other" else text


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a list (a story field that is missing or malformed gives none)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _origin(url: Any) -> str:
    try:
        parts = urlsplit(str(url or ""))
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _errors(story: Mapping[str, Any]) -> dict[str, str]:
    """request id → OAuth error, from the story's steps and the controls' events."""
    found: dict[str, str] = {}
    for item in [*_items(story.get("events")), *_items(story.get("steps"))]:
        if isinstance(item, Mapping) and item.get("request_id") and item.get("error"):
            found.setdefault(str(item["request_id"]), str(item["error"]))
    return found


def _exchange_arrow(number: int, exchange: Mapping[str, Any], errors: Mapping[str, str],
                    notes: Mapping[str, str]) -> Arrow:
    request_id = exchange.get("request_id")
    status = exchange.get("status")
    error = exchange.get("error") or (errors.get(str(request_id)) if request_id else None)
    return Arrow(number=number, sender=sender_of(exchange), receiver=receiver_of(exchange),
                 label=short_label(exchange.get("method"), exchange.get("url"),
                                   exchange.get("leg")),
                 leg=str(exchange.get("leg") or "other"),
                 status=status if isinstance(status, int) else None,
                 error=str(error) if error and isinstance(status, int) and status >= 300
                 else None,
                 capture_id=exchange["id"] if isinstance(exchange.get("id"), int) else None,
                 note=notes.get(str(request_id), "") if request_id else "")


def _uncaptured(steps: Iterable[Mapping[str, Any]], exchanges: Sequence[Mapping[str, Any]],
                lab_origins: set[str]) -> dict[int, list[Mapping[str, Any]]]:
    """Story steps to origins the capture does not front (EvilBank, the attacker's site),
    keyed by the index of the exchange they follow (-1: before the first)."""
    by_id = {str(e.get("request_id")): i for i, e in enumerate(exchanges) if e.get("request_id")}
    by_url: dict[str, int] = {}
    by_location: dict[str, int] = {}
    for i, e in enumerate(exchanges):
        by_url.setdefault(str(e.get("url")), i)
        if e.get("location"):
            by_location.setdefault(str(e["location"]), i)
    placed: dict[int, list[Mapping[str, Any]]] = {}
    cursor = -1
    for step in steps:
        url = step.get("url")
        if not url or step.get("actor") not in ("attacker", "victim"):
            continue
        if _origin(url) in lab_origins:
            anchor = by_id.get(str(step.get("request_id"))) if step.get("request_id") else None
            anchor = anchor if anchor is not None else by_url.get(str(url))
            if anchor is not None:
                cursor = max(cursor, anchor)
            continue
        # A redirect whose Location is this URL is what sent the browser there.
        after = by_location.get(str(url), cursor)
        here = placed.setdefault(after, [])
        if here and here[-1].get("url") == url and here[-1].get("actor") == step.get("actor"):
            here[-1] = {**here[-1], **{k: v for k, v in step.items() if v is not None}}
            continue   # one navigation told in two steps ("is sent to", "lands on")
        here.append(step)
        cursor = max(cursor, after)
    return placed


def build(exchanges: Sequence[Mapping[str, Any]], story: Mapping[str, Any] | None = None,
          origins: Mapping[str, str] | None = None) -> Diagram:
    """The diagram of one run: `exchanges` (capture summaries, oldest first), the story's
    requests to uncaptured origins, and `origins` (label → base URL of AS, bank, TPP)."""
    story = story or {}
    lab_origins = {_origin(u) for u in (origins or {}).values()} | \
        {_origin(str(e.get("url"))) for e in exchanges}
    lab_origins.discard("")
    steps = _items(story.get("steps"))
    notes = {str(s["request_id"]): str(s.get("text") or "") for s in steps
             if s.get("request_id")}
    extra = _uncaptured(steps, exchanges, lab_origins)
    errors = _errors(story)
    arrows: list[Arrow] = []

    def add_steps(index: int) -> None:
        for step in extra.get(index, []):
            sender = "attacker" if step.get("actor") == "attacker" else "browser"
            arrows.append(Arrow(number=len(arrows) + 1, sender=sender, receiver="attacker",
                                label=short_label(step.get("method"), step.get("url")),
                                leg="not captured", status=_int(step.get("status")),
                                captured=False, note=str(step.get("text") or "")))

    add_steps(-1)
    for index, exchange in enumerate(exchanges):
        arrows.append(_exchange_arrow(len(arrows) + 1, exchange, errors, notes))
        add_steps(index)
    left_out = max(0, len(arrows) - MAX_ARROWS)
    return Diagram(arrows[:MAX_ARROWS], left_out)
