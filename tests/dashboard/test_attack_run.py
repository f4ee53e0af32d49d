"""run_attack: one catalog attack against the running lab, its evidence, and the lab put back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attacker import lookup
from attacker.net import ATTACKER_ADDRESS
from attacker.runner import SavedState
from dashboard import attack_run, data
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab


@pytest.fixture
def lab(dash_lab: RunningLab) -> Iterator[data.Lab]:
    """The dashboard's view of the lab, under `legacy` (at-replay-bearer works there)."""
    saved = SavedState(dash_lab.store)
    Registry(dash_lab.store).apply_profile("legacy")
    yield data.connect()
    saved.restore()


def _switches(lab: data.Lab) -> tuple[str, dict[str, bool]]:
    return lab.profiles()["current"], {c["id"]: bool(c["on"]) for c in lab.controls()}


def test_the_replayed_bearer_token_works_when_dpop_is_off_and_the_run_is_recorded(
        lab: data.Lab) -> None:
    mark = lab.last_capture_id()
    run = attack_run.run_attack(lab, "at-replay-bearer", changes={"dpop_bound_tokens": False})
    assert run.status == "succeeded", run.reason
    assert run.story["stolen"] and run.summary
    assert run.attack["id"] == "at-replay-bearer" and run.attack["premise"]
    ids = [e["id"] for e in run.exchanges]
    assert ids and min(ids) > mark and ids == sorted(ids)
    by_request = {e["request_id"]: e for e in run.exchanges}
    attacker_steps = [s for s in run.story["steps"] if s["actor"] == "attacker" and s["request_id"]]
    assert attacker_steps
    for step in attacker_steps:   # what the attacker sent went through the capture, from 127.0.0.2
        assert by_request[step["request_id"]]["client_addr"] == ATTACKER_ADDRESS
    assert any(e["leg"] == "token" and e["client_addr"] == "127.0.0.1" for e in run.exchanges)


def test_with_dpop_bound_tokens_on_it_is_blocked_and_the_lab_is_put_back(
        lab: data.Lab) -> None:
    before = _switches(lab)
    assert before[1]["dpop_bound_tokens"] is False
    run = attack_run.run_attack(lab, "at-replay-bearer", changes={"dpop_bound_tokens": True})
    assert run.status == "blocked", run.reason
    assert "dpop_bound_tokens" in run.fired
    assert run.changes == {"dpop_bound_tokens": True}
    refused = [e for e in run.exchanges if e.get("error")]
    assert refused and all(e["status"] >= 300 for e in refused)
    assert _switches(lab) == before


def test_with_no_changes_it_runs_under_the_current_switches(
        lab: data.Lab, dash_lab: RunningLab) -> None:
    Registry(dash_lab.store).set({"dpop_bound_tokens": True})
    before = _switches(lab)
    run = attack_run.run_attack(lab, "at-replay-bearer")
    assert run.status == "blocked" and "dpop_bound_tokens" in run.fired, run.reason
    assert _switches(lab) == before


@pytest.mark.parametrize(("attack_id", "changes", "says"), [
    ("no-such-attack", None, "no attack 'no-such-attack'"),
    ("future-attack", None, "pending"),   # the stand_in_pending fixture lists it
    ("at-replay-bearer", {"no_such_control": True}, "unknown control"),
])
def test_a_run_that_cannot_start_is_an_error_with_a_reason(
        lab: data.Lab, attack_id: str, changes: dict[str, bool] | None, says: str,
        stand_in_pending: str) -> None:
    before = _switches(lab)
    run = attack_run.run_attack(lab, attack_id, changes=changes)
    assert run.status == "error"
    assert says in run.reason and run.summary == run.reason
    assert run.exchanges == [] and run.fired == []
    assert _switches(lab) == before


def test_a_missing_browser_is_an_error_not_an_exception(
        lab: data.Lab, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(attack_run, "CHROMIUM", str(tmp_path / "no-chromium"))
    run = attack_run.run_attack(lab, "at-replay-bearer", browser=True)
    assert run.status == "error" and run.browser
    assert "no-chromium is missing" in run.reason


def test_choices_list_every_catalog_attack_and_only_built_ones_are_runnable(
        stand_in_pending: str) -> None:
    rows = attack_run.choices()
    assert {r["id"] for r in rows if r["runnable"]} == set(lookup.implemented())
    assert {r["id"] for r in rows if not r["runnable"]} == set(lookup.pending()) \
        == {stand_in_pending}


def test_no_running_lab_is_an_error(lab: data.Lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lab.config import LabConfig

    elsewhere = data.Lab(LabConfig(data_dir=tmp_path), lab.admin)
    run = attack_run.run_attack(elsewhere, "at-replay-bearer")
    assert run.status == "error" and "no lab is running" in run.reason
