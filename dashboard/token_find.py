"""Where JWTs travel in the lab's captured exchanges, and the recent ones, newest first.

A token is looked for where the specs put it: the Authorization header (RFC 6750 §2.1,
RFC 9449 §7.1), the DPoP header (RFC 9449 §4.1), form and query parameters (client_assertion
RFC 7521 §4.2, request RFC 9101 §5, id_token_hint OIDC §3.1.2.1, token RFC 7009/7662, JARM
`response`), redirects (the hybrid flow's id_token, JARM) and token-response JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

KINDS = {
    "access_token": "access token",
    "id_token": "ID token",
    "dpop_proof": "DPoP proof",
    "client_assertion": "client assertion",
    "request_object": "request object",
    "jarm_response": "JARM response",
    "unknown": "JWT of unknown kind",
}
# Where a JWT travels says what it is when its typ does not (RFC 7521, 9101, 9449, JARM).
PARAM_KINDS = {"client_assertion": "client_assertion", "request": "request_object",
               "id_token": "id_token", "id_token_hint": "id_token", "response": "jarm_response",
               "access_token": "access_token", "token": "access_token",
               "refresh_token": None}
RESPONSE_FIELDS = ("access_token", "id_token", "refresh_token")
LEG_WORDS = {"authz_request": "authorization", "authz_response": "authorization",
             "par": "PAR", "token": "token", "userinfo": "userinfo",
             "revocation": "revocation", "introspection": "introspection",
             "resource": "resource", "tpp_ui": "FinLens page", "other": ""}
# Legs that never carry a JWT: FinLens's own pages, login, consent, discovery, JWKS.
SKIPPED_LEGS = ("tpp_ui", "other")
# A compact JWS as it appears on the wire; "eyJ" is base64url for '{"'.
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
RECENT = 80
_cache: dict[tuple[str, int, float], list[Found]] = {}
CACHE_SIZE = 2000

@dataclass(frozen=True)
class Found:
    """A JWT and where it travelled; `access_token`: the one presented or issued beside it."""

    token: str
    where: str
    hint: str | None = None
    capture_id: int | None = None
    leg: str = ""
    side: str = "request"
    method: str = ""
    url: str = ""
    access_token: str | None = None
    access_token_role: str = ""   # "presented" (same request) or "issued" (its response)

    def label(self, kind: str) -> str:
        words = LEG_WORDS.get(self.leg, self.leg)
        context = f"{words} {self.side}".strip()
        prefix = f"#{self.capture_id} " if self.capture_id is not None else ""
        return f"{prefix}{context} · {KINDS.get(kind, kind)}"



# --- finding ---------------------------------------------------------------------------------

def _headers(pairs: Any) -> list[tuple[str, str]]:
    if not isinstance(pairs, list):
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list | tuple) and len(p) == 2]


def _params(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=False)
    except ValueError:
        return []


def _jwt(value: str) -> str | None:
    value = value.strip()
    return value if JWT_SHAPE.fullmatch(value) else None


def _from_params(pairs: list[tuple[str, str]], where: str) -> list[tuple[str, str, str | None]]:
    out = []
    for name, value in pairs:
        token = _jwt(value)
        if token and name in PARAM_KINDS:
            out.append((token, f"{where} {name}", PARAM_KINDS[name]))
    return out


def _request_tokens(capture: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    for name, value in _headers(capture.get("request_headers")):
        lower = name.lower()
        if lower == "authorization":
            scheme, _, credential = value.partition(" ")
            token = _jwt(credential)
            # RFC 6750 §2.1 Bearer; RFC 9449 §7.1 DPoP.
            if token and scheme.lower() in ("bearer", "dpop"):
                out.append((token, f"Authorization: {scheme} header", "access_token"))
        elif lower == "dpop" and _jwt(value):
            out.append((value.strip(), "DPoP header", "dpop_proof"))
    parts = urlsplit(str(capture.get("url") or ""))
    out += _from_params(_params(parts.query), "query")
    body = capture.get("request_body")
    if isinstance(body, str) and body:
        out += _from_params(_params(body), "form")
    return out


def _response_tokens(capture: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    for name, value in _headers(capture.get("response_headers")):
        if name.lower() == "location":
            parts = urlsplit(value)
            out += _from_params(_params(parts.query), "redirect query")
            out += _from_params(_params(parts.fragment), "redirect fragment")
    body = capture.get("response_body")
    if not isinstance(body, str) or not body:
        return out
    whole = _jwt(body)
    if whole:   # application/jwt: a signed userinfo or introspection response
        return [*out, (whole, "response body", None)]
    try:
        data = json.loads(body)
    except ValueError:
        return out
    if isinstance(data, dict):
        for name in RESPONSE_FIELDS:
            field = data.get(name)
            token = _jwt(field) if isinstance(field, str) else None
            if token:
                out.append((token, f"response {name}", PARAM_KINDS[name]))
    return out


def find_in_capture(capture: dict[str, Any]) -> list[Found]:
    """Every JWT in one captured exchange (a row of the admin API's /captures/<id>)."""
    if not isinstance(capture, dict):
        return []
    capture_id = capture.get("id") if isinstance(capture.get("id"), int) else None
    leg, method = str(capture.get("leg") or ""), str(capture.get("method") or "")
    url = str(capture.get("url") or "")
    requested = _request_tokens(capture)
    answered = _response_tokens(capture)
    presented = next((t for t, _, h in requested if h == "access_token"), None)
    issued = next((t for t, w, h in answered if w == "response access_token"), None)
    found: list[Found] = []
    seen: set[tuple[str, str]] = set()
    for side, items in (("request", requested), ("response", answered)):
        for token, where, hint in items:
            if (token, where) in seen:
                continue
            seen.add((token, where))
            partner, role = (presented, "presented") if presented else (issued, "issued")
            if hint != "dpop_proof":
                partner, role = None, ""
            found.append(Found(token, where, hint, capture_id, leg, side, method, url,
                               partner, role if partner else ""))
    return found


class CaptureSource(Protocol):
    """What `recent` needs of `dashboard.data.Lab`."""

    def last_capture_id(self) -> int: ...
    def captures(self, since: int = 0, limit: int = 200, leg: str | None = None
                 ) -> list[dict[str, Any]]: ...
    def capture(self, capture_id: int) -> dict[str, Any]: ...


def recent(lab: CaptureSource, limit: int = RECENT, *, cache_key: str = "") -> list[Found]:
    """JWTs in the last `limit` exchanges, newest first. A capture never changes once
    recorded, so each is fetched once (keyed by id and time: a reset lab reuses ids)."""
    last = lab.last_capture_id()
    summaries = lab.captures(since=max(0, last - limit), limit=limit)
    found: list[Found] = []
    for summary in reversed(summaries):
        if summary.get("leg") in SKIPPED_LEGS:
            continue
        key = (cache_key, int(summary["id"]), float(summary.get("ts") or 0))
        if key not in _cache:
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
            _cache[key] = find_in_capture(lab.capture(int(summary["id"])))
        found.extend(_cache[key])
    return found
