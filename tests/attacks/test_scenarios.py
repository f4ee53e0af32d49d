"""Scenario files: a bad one is refused with file, line and field; the workshop set passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from attacker import lookup, runner, scenario_run, scenarios
from attacker.attacks import Pending
from lab.cli.scenario import DEFAULT_DIR
from lab.serving.in_process import RunningLab

WORKSHOP = sorted(DEFAULT_DIR.glob("*.yaml"))

GOOD = """title: t
story: s
profile: legacy
steps:
  - attack: at-replay-bearer
    expect: succeeded
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_a_pending_attack_is_refused_with_its_reason(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A step naming a catalog attack that is not built yet says why, not "unknown"."""
    waiting = Pending(id="future-attack", title="t", attacker="A1", blocked_by=(),
                      reason="needs a mechanism not built yet")
    real = lookup.pending
    monkeypatch.setattr(lookup, "pending", lambda: {**real(), waiting.id: waiting})
    text = GOOD.replace("  - attack: at-replay-bearer", "  - attack: future-attack")
    with pytest.raises(scenarios.ScenarioError) as failure:
        scenarios.load(_write(tmp_path, text))
    assert ":5: steps[0].attack: 'future-attack' is pending: needs a mechanism not built yet" \
        in str(failure.value)


def test_a_good_file_loads(tmp_path: Path) -> None:
    scenario = scenarios.load(_write(tmp_path, GOOD))
    assert scenario.profile == "legacy"
    assert [s.attack for s in scenario.steps] == ["at-replay-bearer"]


@pytest.mark.parametrize(("text", "where"), [
    (GOOD.replace("expect: succeeded", "expect: blokced"), ":6: steps[0].expect"),
    (GOOD.replace("profile: legacy", "profile: fapi9"), ":3: profile"),
    (GOOD.replace("title: t\n", ""), "scenario: missing required field 'title'"),
    (GOOD + "colour: red\n", ":7: colour: unknown field"),
    (GOOD.replace("  - attack: at-replay-bearer", "  - attack: no-such-attack"),
     ":5: steps[0].attack: unknown attack"),
    (GOOD + "controls: {pkce_requird: on}\n", ":7: controls.pkce_requird: unknown control"),
    (GOOD + "controls: {pkce_required: maybe}\n", ":7: controls.pkce_required: must be on"),
    (GOOD + "tpp: {pkce: S512}\n", ":7: tpp.pkce: 'S512' is not one of"),
    (GOOD.replace("    expect: succeeded",
                  "    expect: succeeded\n    blocked_by: [pkce_required]"),
     ":7: steps[0].blocked_by: only a step expected to be blocked"),
    ("title: [unclosed\n", ":2: not valid YAML"),
    ("", "empty file"),
    ("title: t\nstory: s\nprofile: legacy\nsteps: []\n", ":4: steps: must be a non-empty list"),
])
def test_a_bad_file_names_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(scenarios.ScenarioError) as error:
        scenarios.load(path)
    assert str(error.value).startswith(str(path))
    assert where in str(error.value)


def test_every_workshop_file_is_valid() -> None:
    loaded = scenarios.discover(DEFAULT_DIR)
    assert len(loaded) == len(WORKSHOP) >= 12
    assert [s.order for s in loaded] == sorted(s.order for s in loaded)


@pytest.mark.parametrize("path", WORKSHOP, ids=[p.stem for p in WORKSHOP])
def test_workshop_scenario_passes(path: Path, attack_lab: RunningLab) -> None:
    saved = runner.SavedState(attack_lab.store)
    try:
        result = scenario_run.run(scenarios.load(path), attack_lab.config, attack_lab.store)
    finally:
        saved.restore()
    failures = [f"{s.step.attack} under {s.configuration}: {s.why}" for s in result.steps
                if not s.passed]
    assert not failures, "\n".join(failures)


def test_a_wrong_expectation_fails_the_run(tmp_path: Path, attack_lab: RunningLab) -> None:
    wrong = GOOD.replace("expect: succeeded", "expect: blocked")
    saved = runner.SavedState(attack_lab.store)
    try:
        result = scenario_run.run(scenarios.load(_write(tmp_path, wrong)), attack_lab.config,
                                  attack_lab.store)
    finally:
        saved.restore()
    assert not result.passed
    assert "expected blocked, measured succeeded" in result.steps[0].why




@pytest.mark.parametrize(("content", "message"), [
    (b"title: caf\xe9\n", "not UTF-8 text"),
    (b"title: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    (b"title: " + b"x" * (2 * 1024 * 1024) + b"\n", "larger than"),
], ids=["latin-1", "deeply-nested", "huge"])
def test_a_hostile_file_is_a_scenario_error(tmp_path: Path, content: bytes,
                                            message: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    with pytest.raises(scenarios.ScenarioError) as error:
        scenarios.load(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


@pytest.mark.parametrize("name", ["latin-1", "nested", "dev-zero"])
def test_scenario_check_on_a_hostile_file_says_why_and_exits_2(
        tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: 'unexpected error' (UnicodeDecodeError, RecursionError) or MemoryError."""
    from lab.cli import main

    path = Path("/dev/zero") if name == "dev-zero" else tmp_path / f"{name}.yaml"
    if name == "latin-1":
        path.write_bytes(b"title: caf\xe9\n")
    elif name == "nested":
        path.write_text("steps: " + "[" * 20000 + "]" * 20000 + "\n")
    assert main(["--data-dir", str(tmp_path / "lab"), "scenario", "check", str(path)]) == 2
    out = capsys.readouterr()
    assert "unexpected error" not in out.out + out.err
    assert str(path) in out.out
