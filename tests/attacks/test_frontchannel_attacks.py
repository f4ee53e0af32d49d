"""Front-channel attacks beyond the generic catalog runs (attacks.md §3 D and E).

request-uri-replay-csrf: consumed only at authorization, a leaked request_uri is still
good for the faster browser (catalog: "with `authorization` and a faster attacker it
succeeds"). code-injection: state alone does not bind a code to its flow (not_alone).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attacker import lookup, runner
from lab.serving.in_process import RunningLab
from tests.attacks.conftest import story


@pytest.fixture
def restored(attack_lab: RunningLab) -> Iterator[RunningLab]:
    saved = runner.SavedState(attack_lab.store)
    yield attack_lab
    saved.restore()


def test_request_uri_consumed_at_authorization_lets_a_fast_attacker_win(
        restored: RunningLab) -> None:
    attack = lookup.get("request-uri-replay-csrf")
    configuration = runner.Configuration(
        "legacy", {"request_uri_single_use": True},
        {"request_uri_single_use": {"consume_at": "authorization"}})
    outcome = runner.run(attack, restored.config, restored.store, configuration)
    assert outcome.status == "succeeded", story(outcome)


def test_request_uri_consumed_at_load_stops_the_attacker(restored: RunningLab) -> None:
    attack = lookup.get("request-uri-replay-csrf")
    configuration = runner.Configuration(
        "legacy", {"request_uri_single_use": True},
        {"request_uri_single_use": {"consume_at": "load"}})
    outcome = runner.run(attack, restored.config, restored.store, configuration)
    assert outcome.status == "blocked", story(outcome)
    refused = [e for e in outcome.events if e.control == "request_uri_single_use"]
    assert refused and "first load" in refused[0].reason, story(outcome)


def test_state_check_alone_does_not_stop_code_injection(restored: RunningLab) -> None:
    attack = lookup.get("code-injection")
    outcome = runner.run(attack, restored.config, restored.store,
                         runner.Configuration("legacy", {"tpp_checks_state": True}))
    assert outcome.status == "succeeded", story(outcome)
    assert "tpp_checks_state" in attack.not_alone
