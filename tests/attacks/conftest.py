"""A lab behind the real mitmproxy (capture on), as attacks need, shared by the attack tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attacker import runner
from attacker.attacks import Attack
from attacker.outcome import Outcome
from lab.config import LOW_PASSWORD_ITERATIONS
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab


@pytest.fixture(scope="session")
def attack_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with private_lab(profile="legacy", write_state=False, capture=True,
                     password_iterations=LOW_PASSWORD_ITERATIONS,
                     data_dir=tmp_path_factory.mktemp("attack-lab")) as running:
        yield running


@pytest.fixture
def run_attack(attack_lab: RunningLab):  # type: ignore[no-untyped-def]
    """run_attack(attack, profile, **changes) → the measured Outcome (lab put back after).

    Each run starts as a matrix cell does (runner.run's `throwaway`): no links earlier runs
    left alice, no FinLens secret issued at a lab time an earlier run moved ahead to. On this
    session-long lab, an earlier attack's link dated ahead of the reset clock was "newest"
    on the bank's page, and refresh-after-revocation's victim revoked it instead of his own.
    `throwaway=False` keeps them, for the tests of a crowded victim."""
    saved = runner.SavedState(attack_lab.store)

    def _run(attack: Attack, profile: str = "legacy", throwaway: bool = True,
             **changes: bool) -> Outcome:
        return runner.run(attack, attack_lab.config, attack_lab.store,
                          runner.Configuration(profile, dict(changes)), throwaway=throwaway)

    yield _run
    saved.restore()


def story(outcome: Outcome) -> str:
    """The outcome as text, for assertion messages."""
    lines = [f"{outcome.status}: {outcome.summary}"]
    lines += [f"  {s.actor}: {s.text} {s.method or ''} {s.url or ''} → {s.status} {s.error or ''}"
              for s in outcome.steps]
    lines += [f"  event {e.control} ({e.kind}, counted={e.counted}): {e.reason}"
              for e in outcome.events]
    return "\n".join(lines)
