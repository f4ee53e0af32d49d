"""A FinLens secret an earlier run's lab time left (the full matrix's last mismatch).

On a lab many runs share, FinLens rotates its client secret (RFC 7592) whenever an attack
moves the lab clock near its expiry: the new secret then carries an issue time and expiry
days ahead of the clock the next run resets. payment-without-step-up waits three lab days
for the insider's copy of the secret to expire under client_secret_rotation; it found that
secret still valid and succeeded. A throwaway lab's run re-issues such a secret at its own
lab time (runner.secret_from_the_future).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attacker import lookup, runner
from attacker.outcome import Outcome
from lab import clock, context
from lab.serving.in_process import RunningLab
from lab.tpp import secret_rotation
from tests.attacks.conftest import story

ATTACK = lookup.get("payment-without-step-up")
AHEAD = 5 * 86400


@pytest.fixture
def secret_from_ahead(attack_lab: RunningLab) -> Iterator[None]:
    """FinLens's secret rotated at a lab time five days on, then the clock put back."""
    saved = runner.SavedState(attack_lab.store)
    runner.apply(attack_lab.store, runner.Configuration("legacy"), ATTACK)
    clock.advance(attack_lab.store, AHEAD)
    with context.bound(attack_lab.store, "tpp"):   # as FinLens rotates: in its own request
        secret_rotation.rotate(attack_lab.config)
    clock.reset(attack_lab.store)
    assert secret_rotation.saved(attack_lab.config)["client_secret_issued_at"] > \
        clock.now(attack_lab.store) + AHEAD - 60
    yield
    saved.restore()
    clock.reset(attack_lab.store)
    secret_rotation.rotate(attack_lab.config)


def _run(lab: RunningLab, throwaway: bool) -> Outcome:
    return runner.run(ATTACK, lab.config, lab.store,
                      runner.Configuration("legacy", {"client_secret_rotation": True}),
                      throwaway=throwaway)


def test_without_the_reissue_a_secret_from_ahead_outlives_the_wait(
        secret_from_ahead: None, attack_lab: RunningLab) -> None:
    outcome = _run(attack_lab, throwaway=False)
    assert outcome.status == "succeeded", story(outcome)


def test_a_throwaway_run_reissues_it_and_the_wait_expires_it(
        secret_from_ahead: None, attack_lab: RunningLab) -> None:
    outcome = _run(attack_lab, throwaway=True)
    assert outcome.status == "blocked", story(outcome)
    assert "client_secret_rotation" in outcome.fired_controls, story(outcome)
    assert any("re-issued" in s.text for s in outcome.steps), story(outcome)
    assert secret_rotation.saved(attack_lab.config)["client_secret_issued_at"] <= \
        clock.now(attack_lab.store) + 1
