"""Workshop exercises: the scenarios of `scenarios/` as numbered steps a participant solves.

An exercise starts the lab where its scenario starts, shows the attack working, and asks
the participant to find the switch that makes it fail. The check runs the same attack under
the lab's switches as they are now and judges it the way the scenario does: blocked, and
the step's control among the fired ones. How far each exercise got is kept in the lab
(admin API /workshop), not in the browser session, so a reload or a second tab goes on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attacker import scenario_run
from attacker.scenarios import Scenario, discover
from lab.bootstrap import open_store
from lab.controls import catalog

from .attack_run import AttackRun
from .data import Lab

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@dataclass(frozen=True)
class Exercise:
    number: int
    scenario: Scenario
    attack: str
    controls: tuple[str, ...]      # switching one of these makes the attack fail
    start: dict[str, bool] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.scenario.title

    @property
    def solvable(self) -> bool:
        """False where no switch built so far stops the attack (the step shows just that)."""
        return bool(self.controls)


def exercises(directory: Path = SCENARIOS) -> list[Exercise]:
    """One exercise per scenario with an `order`, in teaching order."""
    scenarios = discover(directory)   # a bad file raises ScenarioError naming file and line
    found = []
    for scenario in sorted((s for s in scenarios if s.order), key=lambda s: s.order):
        first = scenario.steps[0]
        target = next((s for s in scenario.steps
                       if s.attack == first.attack
                       and s.expect in ("blocked", "victim-failed")), None)
        found.append(Exercise(scenario.order, scenario, first.attack,
                              tuple(target.blocked_by) if target else (),
                              dict(scenario.controls)))
    return found


def set_up(lab: Lab, exercise: Exercise) -> str:
    """Put the lab where the exercise starts; say where that is, in one line."""
    scenario = exercise.scenario
    store = open_store(lab.config)
    try:
        scenario_run.establish(store, scenario.profile, dict(scenario.controls),
                               dict(scenario.tpp))
    finally:
        store.close()   # this thread's connection; the running lab keeps its own
    extra = [catalog.get(c).title for c, on in scenario.controls.items() if on]
    return (f"The lab now runs the `{scenario.profile}` profile"
            + (f" with {', '.join(f'**{t}**' for t in extra)} on (from earlier exercises)"
               if extra else "") + ".")


@dataclass
class Verdict:
    """What the check tells the participant."""

    solved: bool
    tone: str            # "success", "warning", "error", "info"
    headline: str
    details: list[str] = field(default_factory=list)


def judge(exercise: Exercise, run: AttackRun) -> Verdict:
    """Blocked with the exercise's control among the fired ones → solved."""
    status, fired, summary = run.status, run.fired, run.summary
    if status == "victim-failed":
        # the control refused the weak victim flow the attack needs: the attack never ran
        fired = list(run.story.get("victim_fired") or [])
        hit = [c for c in exercise.controls if c in fired]
        if hit:
            control = catalog.get(hit[0])
            return Verdict(True, "success", f"Solved: {control.title} refuses FinLens's weak "
                           "flow, so the attack never gets to run (not blocked: prevented).",
                           [f"What happened: {summary}", control.teaching])
        return Verdict(False, "warning", "The switch broke the victim's own flow, so the "
                       "attack never ran — that is not the lesson of this step.", [summary])
    if status == "error":
        return Verdict(False, "error", "The attack could not run, so nothing was checked.",
                       [summary])
    if status == "succeeded":
        return Verdict(False, "error", "The attack still works.",
                       [f"What the attacker got: {summary}",
                        "Switch a control on the Controls page, then check again. "
                        "Stuck? Open the hint."])
    names = [f"**{catalog.get(c).title}** (`{c}`)" for c in fired if c in catalog.BY_ID]
    hit = [c for c in exercise.controls
           if c in fired or set(fired) & set(catalog.get(c).fires_via or ())]
    if hit:
        control = catalog.get(hit[0])
        return Verdict(True, "success", f"Solved: {control.title} refused the attack.",
                       [f"The refusal: {summary}", control.teaching])
    return Verdict(False, "warning",
                   "The attack failed — but not because of the control this exercise is about.",
                   [f"It was refused by {', '.join(names) or 'a control'}: {summary}",
                    "That works too; to learn this step's lesson, switch that one off again and "
                    "find the control the hint points to."])


@dataclass(frozen=True)
class Ran:
    """What step 2 showed: how the attack went under the exercise's starting switches."""

    status: str                  # succeeded | blocked | error
    summary: str
    fired: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, run: AttackRun) -> Ran:
        return cls(run.status, run.summary, run.fired)


@dataclass
class Progress:
    """One exercise's progress as the lab keeps it."""

    setup: str | None = None
    ran: Ran | None = None
    checked: Verdict | None = None

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Progress:
        ran, checked = record.get("ran"), record.get("checked")
        return cls(setup=str(record["setup"]["note"]) if "setup" in record else None,
                   ran=Ran(str(ran["status"]), str(ran["summary"]), list(ran["fired"]))
                   if ran else None,
                   checked=Verdict(bool(checked["solved"]), str(checked["tone"]),
                                   str(checked["headline"]), list(checked["details"]))
                   if checked else None)


def progress(lab: Lab) -> tuple[dict[int, Progress], int | None]:
    """Every exercise's progress, and the one the participant touched last (or None)."""
    kept = lab.workshop()
    order = [int(n) for n in kept.get("order", [])]
    return ({int(n): Progress.from_json(r) for n, r in kept.get("exercises", {}).items()},
            order[0] if order else None)


def record_setup(lab: Lab, number: int, note: str) -> None:
    lab.record_workshop(number, "setup", {"note": note})


def record_run(lab: Lab, number: int, ran: Ran) -> None:
    lab.record_workshop(number, "ran", asdict(ran))


def record_check(lab: Lab, number: int, verdict: Verdict) -> None:
    lab.record_workshop(number, "checked", asdict(verdict))
