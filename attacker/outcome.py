"""What running an attack gives: the story's steps, the fired events, the measured outcome.

What an attack *is* (its catalog row, premise and run) lives in attacker/attacks/.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["succeeded", "blocked", "error"]


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
    control: str
    kind: str
    error: str | None
    reason: str
    endpoint: str | None
    request_id: str | None
    counted: bool = True     # False: incidental (a nonce handshake, an unrelated prevention)


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
    victim_refused: bool = False   # a control refused the victim's own flow (attacks.md §0)

    @property
    def fired_controls(self) -> list[str]:
        """Controls whose counted events fired during the run, in first-fired order."""
        seen: list[str] = []
        for event in self.events:
            if event.counted and event.control not in seen:
                seen.append(event.control)
        return seen

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fired_controls"] = self.fired_controls
        return data


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
