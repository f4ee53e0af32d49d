"""What running an attack gives: the story's steps, the fired events, the measured outcome.

What an attack *is* (its catalog row, premise and run) lives in attacker/attacks/.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["succeeded", "blocked", "victim-failed", "error"]
STATUSES: tuple[str, ...] = ("succeeded", "blocked", "victim-failed", "error")


# Why pkce_required alone over legacy cannot block an attack that needs FinLens's flow.
PKCE_ALONE = ("legacy FinLens sends no code_challenge and no AS metadata can say PKCE is "
              "required (RFC 8414 has none, unlike PAR and DPoP), so the switch alone refuses "
              "the victim's own request (victim-failed); with FinLens using S256 (oauth2, "
              "fapi2-security) it blocks")


@dataclass
class Step:
    """One line of the story: what the attacker (or the victim) did and what came back."""

    actor: str          # "attacker", "victim", "lab"
    text: str
    method: str | None = None
    url: str | None = None
    status: int | None = None
    request_id: str | None = None
    error: str | None = None


@dataclass
class FiredEvent:
    """A control event caused by one of the run's own requests (the attacker's or the victim's,
    by X-Lab-Request-Id; FinLens's back-channel calls carry the id of the browser request)."""

    control: str
    kind: str
    error: str | None
    reason: str
    endpoint: str | None
    request_id: str | None
    counted: bool = True     # False: incidental (a nonce handshake, an unrelated prevention)
    # whose request caused it: "attacker"; "lured" (the victim's browser, sending what the
    # attacker made it send); "victim" (the victim's own honest flow)
    by: str = "attacker"


@dataclass
class Outcome:
    """The measured result of one run (attacks.md §0 outcome rules)."""

    attack: str
    status: Status
    summary: str
    configuration: dict[str, Any] = field(default_factory=dict)
    stolen: Any = None
    captured: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    events: list[FiredEvent] = field(default_factory=list)
    refusal: dict[str, Any] | None = None
    seconds: float = 0.0
    # this process's CPU seconds for the run: on a private lab (the matrix, the tests) its
    # servers and capture run in the same process, so this is the whole run's cost, steady
    # where wall time depends on what else the machine runs
    cpu_seconds: float = 0.0

    @property
    def fired_controls(self) -> list[str]:
        """Controls whose counted events refused the attacker (its own requests, or what it
        made the victim's browser send), in first-fired order."""
        return _controls(e for e in self.events if e.counted and e.by != "victim")

    @property
    def victim_fired(self) -> list[str]:
        """Controls that refused the victim's own honest flow (a victim-failed run's cause)."""
        return _controls(e for e in self.events if e.counted and e.by == "victim")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fired_controls"] = self.fired_controls
        data["victim_fired"] = self.victim_fired
        return data


def _controls(events: Iterable[FiredEvent]) -> list[str]:
    seen: list[str] = []
    for event in events:
        if event.control not in seen:
            seen.append(event.control)
    return seen


class GoalReached(Exception):  # noqa: N818 - control flow, not an error
    """Raised by ctx.succeeded(): the attack reached its goal."""

    def __init__(self, summary: str, stolen: Any) -> None:
        super().__init__(summary)
        self.summary = summary
        self.stolen = stolen


class GoalMissed(Exception):  # noqa: N818 - control flow, not an error
    """Raised by ctx.failed(): the attack could not reach its goal (blocked or error, judged)."""

    def __init__(self, summary: str, refusal: dict[str, Any] | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.refusal = refusal


class AttackSetupError(Exception):
    """The lab could not be put in the state the premise needs: an error, never 'blocked'."""


class PremiseViolation(AttackSetupError):
    """An attack tried to read what its attacker type cannot see: a bug in the attack."""
