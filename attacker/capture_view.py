"""What leaked: the capture, read only through the legs an attacker type can see.

attacks.md §1: "A premise is a set of legs plus explicit grants; the attacker
library refuses to read other legs." Every read is remembered for the story.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lab.capture.store import get_capture, list_captures
from lab.store.base import Store
from lab.useragent import jarm_params

from .outcome import AttackSetupError, PremiseViolation


@dataclass
class Leaked:
    """One captured exchange, as the attacker reads it."""

    id: int
    leg: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str | None
    status: int | None
    response_headers: list[tuple[str, str]]
    response_body: str | None
    request_id: str | None

    def header(self, name: str, *, response: bool = False) -> str | None:
        pairs = self.response_headers if response else self.request_headers
        return next((v for k, v in pairs if k.lower() == name.lower()), None)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.request_body or "", keep_blank_values=True))

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def location_params(self) -> dict[str, str]:
        """The query (and fragment) of a redirect's Location: an authorization response."""
        location = self.header("Location", response=True) or ""
        parts = urlsplit(location)
        params = {**dict(parse_qsl(parts.query)), **dict(parse_qsl(parts.fragment))}
        if "response" in params:
            # JARM: the parameters travel inside a signed (not encrypted) JWT, readable by all
            params = {**jarm_params(params["response"]), **params}
        return params

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.response_body or "")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def summary(self) -> dict[str, Any]:
        return {"capture_id": self.id, "leg": self.leg, "method": self.method, "url": self.url,
                "status": self.status, "request_id": self.request_id}


class CaptureView:
    """The capture since `since_id`, limited to `legs`."""

    def __init__(self, store: Store, legs: tuple[str, ...], since_id: int) -> None:
        self.store = store
        self.legs = legs
        self.since_id = since_id
        self.read: list[Leaked] = []

    def all(self, leg: str) -> list[Leaked]:
        """Every exchange on `leg` since the run began, oldest first."""
        if leg not in self.legs:
            raise PremiseViolation(f"this attacker cannot read the {leg!r} leg "
                                   f"(it reads {', '.join(self.legs) or 'no legs'})")
        rows = list_captures(self.store, leg=leg, since_id=self.since_id, limit=1000)
        found = []
        for row in rows:
            full = get_capture(self.store, int(row["id"]))
            if full is not None:
                found.append(Leaked(
                    id=int(full["id"]), leg=full["leg"], method=full["method"],
                    url=full["url"], request_headers=[tuple(p) for p in full["request_headers"]],
                    request_body=full["request_body"], status=full["status"],
                    response_headers=[tuple(p) for p in full["response_headers"]],
                    response_body=full["response_body"], request_id=full["request_id"]))
        return found

    def last(self, leg: str, *, where: Any = None) -> Leaked:
        """The newest exchange on `leg` matching `where(leaked)`; AttackSetupError if none."""
        for leaked in reversed(self.all(leg)):
            if where is None or where(leaked):
                self.read.append(leaked)
                return leaked
        raise AttackSetupError(f"nothing suitable was captured on the {leg} leg "
                               "(is capture on?)")

    def first(self, leg: str, *, where: Any = None) -> Leaked:
        for leaked in self.all(leg):
            if where is None or where(leaked):
                self.read.append(leaked)
                return leaked
        raise AttackSetupError(f"nothing suitable was captured on the {leg} leg "
                               "(is capture on?)")
