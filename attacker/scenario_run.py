"""Run a scenario step by step and compare each outcome with what the scenario expects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.config import LabConfig
from lab.controls import catalog as controls_catalog
from lab.controls.registry import Registry
from lab.store.base import Store
from lab.tpp import settings as tpp_settings

from . import lookup, runner
from .outcome import Outcome
from .scenarios import Scenario, Step


@dataclass
class StepResult:
    step: Step
    outcome: Outcome
    configuration: str
    passed: bool
    why: str = ""


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)


def establish(store: Store, profile: str, controls: dict[str, bool], tpp: dict[str, str]
              ) -> None:
    """Profile, then the TPP settings, then the switches (an "alt" mark follows the TPP)."""
    tpp_settings.clear(store)
    for name, value in tpp.items():
        tpp_settings.set_setting(store, name, value)
    registry = Registry(store)
    registry.apply_profile(profile)
    if controls:
        registry.set(controls)


def check(step: Step, outcome: Outcome) -> tuple[bool, str]:
    if outcome.status != step.expect:
        return False, f"expected {step.expect}, measured {outcome.status}: {outcome.summary}"
    # victim-failed: the named controls are those that refused the victim's own flow
    shown = outcome.victim_fired if step.expect == "victim-failed" else outcome.fired_controls
    fired = set(shown)
    # a control whose refusal comes from another (attacks.md §0 `fires_via`) counts as fired
    missing = [c for c in step.blocked_by if c not in fired
               and not fired & set(controls_catalog.get(c).fires_via or ())]
    if missing:
        return False, (f"{step.expect}, but {', '.join(missing)} did not fire (fired: "
                       f"{', '.join(shown) or 'none'})")
    return True, ""


def run(scenario: Scenario, config: LabConfig, store: Store, *,
        on_step: Callable[[StepResult], None] | None = None,
        victim_factory: Any = None) -> ScenarioResult:
    result = ScenarioResult(scenario)
    controls = dict(scenario.controls)
    tpp = dict(scenario.tpp)
    for step in scenario.steps:
        controls.update(step.set)
        tpp.update(step.tpp)
        establish(store, scenario.profile, controls, tpp)
        label = " ".join([scenario.profile] + [f"{'+' if on else '-'}{c}"
                                                for c, on in controls.items()]
                         + [f"{k}={v}" for k, v in tpp.items()])
        outcome = runner.run(lookup.get(step.attack), config, store,
                             runner.Configuration(None), victim_factory=victim_factory)
        passed, why = check(step, outcome)
        step_result = StepResult(step, outcome, label, passed, why)
        result.steps.append(step_result)
        if on_step:
            on_step(step_result)
    return result
