"""What the attacks page says about a run, as plain data: the verdict, the controls that fired
with their teaching text, the story lines and the captured exchanges — testable without
Streamlit, so the page only lays it out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from attacker.story import STATUS_WORDS, WHOSE
from lab.controls import catalog as controls_catalog

from .attack_run import AttackRun
from .sequence import LIFELINES, receiver_of, sender_of

# attacks.md §1: who each attacker type is and what it reads.
ATTACKER_TYPES = {
    "A1": "web attacker: its own browser, client and site; reads nobody else's traffic",
    "A1a": "web attacker acting as an AS (EvilBank, trusted by FinLens): sees all FinLens "
           "sends it",
    "A2": "network attacker: controls the network, not TLS (reduces to A1 here)",
    "A3a": "reads authorization requests (front channel)",
    "A3b": "reads authorization responses: the AS's redirect and the callback",
    "A4": "reads the FinLens→AS back channel (PAR, token, userinfo, revocation)",
    "A5": "reads resource requests (FinLens→bank): URL, Authorization, DPoP; not responses",
    "UA": "the victim's compromised browser: reads and rewrites the front channel",
    "MT": "a malicious FinLens insider: everything FinLens holds",
    "CS": "an online guesser at the AS's login pages and token endpoint",
    "LI": "a log insider with write access to the lab's store",
}
LIFELINE_NAMES = dict(LIFELINES)
MAX_LISTED = 300     # captured exchanges listed with their headers and bodies
STATUS_HEADLINES = dict(STATUS_WORDS)    # the CLI's words (attacker/story.py)
WHOSE_REQUEST = WHOSE


def attacker_types(code: str) -> list[str]:
    """"A1 + A3b" → one line per attacker type, with what it reads."""
    parts = [p.strip() for p in code.replace(",", "+").split("+") if p.strip()]
    return [f"**{p}** — {ATTACKER_TYPES.get(p, 'see attacks.md §1')}" for p in parts]


def control_title(control_id: str) -> str:
    control = controls_catalog.BY_ID.get(control_id)
    return f"{control.title} (`{control_id}`)" if control else f"`{control_id}`"


@dataclass
class FiredControl:
    """One control that refused something during the run, and why it matters."""

    id: str
    title: str
    spec: str
    teaching: str
    reasons: list[str] = field(default_factory=list)


def fired_controls(run: AttackRun, *, victim: bool = False) -> list[FiredControl]:
    """The counted controls of the run, first-fired first, with the catalog's teaching;
    victim: those that refused the victim's own flow instead (a victim-failed run)."""
    events = [e for e in run.story.get("events", []) if isinstance(e, Mapping)]
    found = []
    for control_id in (run.story.get("victim_fired") or [] if victim else run.fired):
        control = controls_catalog.BY_ID.get(control_id)
        reasons = [f"{e.get('error') or 'refused'} at {e.get('endpoint') or '?'}: "
                   f"{e.get('reason') or ''} ({WHOSE.get(str(e.get('by')), 'request')} "
                   f"{e.get('request_id') or ''})" for e in events
                   if e.get("control") == control_id and e.get("counted")]
        found.append(FiredControl(
            id=control_id, title=control.title if control else control_id,
            spec=control.spec if control else "", teaching=control.teaching if control else "",
            reasons=list(dict.fromkeys(reasons))))
    return found


def headline(run: AttackRun) -> str:
    return STATUS_HEADLINES.get(run.status, run.status)


def step_line(number: int, step: Mapping[str, Any]) -> str:
    """One story step as a markdown line: who, what, and the request with its answer."""
    colour = {"attacker": "violet", "victim": "blue", "lab": "gray"}.get(str(step.get("actor")),
                                                                           "gray")
    line = f"{number}. :{colour}[**{step.get('actor')}**] — {step.get('text') or ''}"
    if step.get("method") and step.get("url"):
        line += f"  \n`{step['method']} {shorten(str(step['url']), 120)}`"
    if step.get("status") is not None:
        line += f" → **{step['status']}**"
        if step.get("error"):
            line += f" `{step['error']}`"
    if step.get("request_id"):
        line += f"  `[{step['request_id']}]`"
    return line


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def exchange_title(exchange: Mapping[str, Any], arrow: int | None = None) -> str:
    """"[7] #12 · Attacker → Bank · GET /accounts · 200 · resource" for an expander: the
    diagram's arrow number, then the capture id."""
    path = urlsplit(str(exchange.get("url") or "")).path or "/"
    sender = LIFELINE_NAMES.get(sender_of(exchange), "?")
    receiver = LIFELINE_NAMES.get(receiver_of(exchange), "?")
    status = exchange.get("status")
    answer = f"{status}" + (f" {exchange['error']}" if exchange.get("error") else "") \
        if status is not None else "no response"
    prefix = f"[{arrow}] " if arrow is not None else ""
    return (f"{prefix}#{exchange.get('id')} · {sender} → {receiver} · {exchange.get('method')} "
            f"{shorten(path, 60)} · {answer} · {exchange.get('leg')}")


def headers_text(pairs: Any) -> str:
    if not isinstance(pairs, list) or not pairs:
        return "(none)"
    return "\n".join(f"{p[0]}: {p[1]}" for p in pairs if isinstance(p, list | tuple)
                     and len(p) == 2)


def body_view(body: Any) -> tuple[str, str | None]:
    """A body for st.code: pretty JSON when it is JSON, else the text as kept."""
    if body is None or body == "":
        return "(empty)", None
    text = str(body)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False), "json"
    except ValueError:
        return text, None


def lab_origins(config: Any) -> dict[str, str]:
    """label → base URL of the lab's public origins (what the capture fronts)."""
    return {"as": str(config.as_url), "bank": str(config.bank_url), "tpp": str(config.tpp_url)}


class _ErrorPage(HTMLParser):
    """The text of FinLens's error page's #error-code and #error-description, nothing else."""

    WANTED = {"error-code": "error", "error-description": "error_description"}

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._into: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self.WANTED.get(dict(attrs).get("id") or "")
        if wanted:
            self._into = wanted
            self.found[wanted] = ""

    def handle_endtag(self, tag: str) -> None:
        self._into = None

    def handle_data(self, data: str) -> None:
        if self._into:
            self.found[self._into] += data


_CHALLENGE = re.compile(r'(error|error_description)="([^"]*)"')


def _oauth_fields(refusal: Mapping[str, Any]) -> dict[str, str]:
    """error and error_description from wherever the refusal carried them: a JSON body
    (RFC 6749 §5.2), a WWW-Authenticate challenge (RFC 6750 §3), an error redirect
    (§4.1.2.1), or FinLens's error page."""
    body = refusal.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, str) and body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return {k: str(parsed[k]) for k in ("error", "error_description") if k in parsed}
    challenge = dict(_CHALLENGE.findall(str(refusal.get("www_authenticate") or "")))
    if "error" in challenge:
        return challenge
    query = parse_qs(urlsplit(str(refusal.get("url") or "")).query)
    if "error" in query:
        return {k: query[k][0] for k in ("error", "error_description") if k in query}
    if isinstance(body, str) and "<" in body:
        page = _ErrorPage()
        page.feed(body)
        if page.found.get("error"):
            return {k: v.strip() for k, v in page.found.items()}
    return {"error": str(refusal["error"])} if refusal.get("error") else {}


def refusal_view(refusal: Mapping[str, Any]) -> dict[str, Any]:
    """What the refusal box shows: who said no and the OAuth error with its description,
    not the refusing page's navigation and chrome."""
    url = urlsplit(str(refusal.get("url") or ""))
    shown: dict[str, Any] = {"status": refusal.get("status"),
                             "where": f"{url.scheme}://{url.netloc}{url.path}" if url.netloc
                             else None,
                             "request_id": refusal.get("request_id"), **_oauth_fields(refusal)}
    return {k: v for k, v in shown.items() if v not in (None, "")}
