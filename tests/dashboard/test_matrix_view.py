"""The matrix page's logic on real results: a one-attack run measured here, and a trimmed copy
of a full run's cells (with its real mismatches); plus the files a background run leaves."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attacker import matrix_evidence
from attacker.outcome import FiredEvent, Outcome, Step
from dashboard import matrix_job, matrix_layout, matrix_view
from lab.controls import profiles

ROOT = Path(__file__).resolve().parents[2]
TRIMMED = Path(__file__).resolve().parent / "fixtures" / "matrix_trimmed.json"
ATTACK = "code-replay"  # the attack of the `measured_matrix` fixture (conftest.py)




@pytest.fixture
def trimmed(tmp_path: Path) -> matrix_view.Results:
    shutil.copy(TRIMMED, tmp_path / matrix_view.RESULTS_FILE)
    return matrix_view.load(tmp_path)


def _cells(results: matrix_view.Results) -> list[tuple[str, str, dict[str, Any]]]:
    return [(a, c, cell) for a, row in results.data["cells"].items() for c, cell in row.items()]


# --- loading --------------------------------------------------------------------------------

def test_a_directory_without_results_says_so(tmp_path: Path) -> None:
    with pytest.raises(matrix_view.ResultsError, match="No matrix results"):
        matrix_view.load(tmp_path / "nothing-here")


@pytest.mark.parametrize(("text", "said"), [
    ("{", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"columns": [], "attacks": []}', "no 'cells'"),
    ('{"columns": [], "attacks": [], "cells": {"a": {"legacy": {"status": "won"}}}}',
     "no known status"),
])
def test_a_broken_results_file_is_named_with_what_is_wrong(tmp_path: Path, text: str,
                                                          said: str) -> None:
    (tmp_path / matrix_view.RESULTS_FILE).write_text(text)
    with pytest.raises(matrix_view.ResultsError, match=said):
        matrix_view.load(tmp_path)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)


IDS = st.sampled_from(["legacy", "oauth2", "pkce_required", "a", ""])
STORY = st.dictionaries(st.sampled_from(["steps", "events", "captured", "refusal", "stolen",
                                         "steps_total"]),
                        JSON | st.lists(st.dictionaries(IDS | st.just("text"), JSON)))
NEAR_CELL = st.fixed_dictionaries(
    {"status": st.sampled_from([*matrix_view.STATUSES, "won"])},
    optional={"fired": st.lists(IDS | JSON, max_size=3),
              "expected_blockers": st.lists(IDS, max_size=3),
              "verdict": st.sampled_from(["agrees", "explained", "mismatch", "error"]) | JSON,
              "explanation": JSON, "summary": JSON, "inferred": JSON,
              "expected_status": JSON, "evidence": st.none() | STORY | JSON})
NEAR_DOC = st.fixed_dictionaries({
    "columns": st.lists(st.fixed_dictionaries(
        {"id": IDS, "kind": st.sampled_from(["profile", "control", "x"])},
        optional={"label": JSON, "note": JSON}), max_size=4),
    "attacks": st.lists(st.fixed_dictionaries(
        {"id": IDS}, optional={"title": JSON, "expected_blockers": st.lists(IDS) | JSON}),
        max_size=3),
    "cells": st.dictionaries(IDS, st.dictionaries(IDS, NEAR_CELL, max_size=3), max_size=3)})
JUNK_DOC = st.fixed_dictionaries({"columns": JSON, "attacks": JSON, "cells": JSON})


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=NEAR_DOC | JUNK_DOC | JSON)
def test_any_json_loads_cleanly_or_is_refused_with_a_message(tmp_path: Path,
                                                            document: Any) -> None:
    (tmp_path / matrix_view.RESULTS_FILE).write_text(json.dumps(document))
    try:
        results = matrix_view.load(tmp_path)
    except matrix_view.ResultsError:
        return
    matrix_view.grid(results, "profile").styled().to_html()
    matrix_view.grid(results, "control")
    matrix_view.mismatches(results)
    for attack_id, column_id, _ in _cells(results):
        matrix_view.evidence(results, attack_id, column_id)



@settings(max_examples=150, deadline=None)
@given(story=STORY)
def test_any_recorded_story_shows_without_error(story: dict[str, Any]) -> None:
    data = json.loads(TRIMMED.read_text())
    data["cells"][ATTACK]["oauth2"]["evidence"] = story
    results = matrix_view.Results(TRIMMED, data, 0.0)
    ev = matrix_view.evidence(results, ATTACK, "oauth2")
    assert ev.stolen is None or isinstance(ev.stolen, str)
    assert ev.refusal is None or isinstance(ev.refusal, dict)

# --- the grids ------------------------------------------------------------------------------

def test_the_two_grids_are_attacks_by_profiles_and_by_single_controls(
        trimmed: matrix_view.Results) -> None:
    for kind in ("profile", "control"):
        grid = matrix_view.grid(trimmed, kind)
        assert list(grid.labels.index) == [a["id"] for a in trimmed.attacks]
        assert list(grid.labels.columns) == [c["id"] for c in trimmed.columns(kind)]
        assert grid.css.shape == grid.labels.shape


def test_each_label_and_colour_follow_the_measured_cell(trimmed: matrix_view.Results) -> None:
    grids = {kind: matrix_view.grid(trimmed, kind) for kind in ("profile", "control")}
    for attack_id, column_id, cell in _cells(trimmed):
        grid = grids[trimmed.column(column_id)["kind"]]
        label, css = grid.labels.loc[attack_id, column_id], grid.css.loc[attack_id, column_id]
        mark = {"blocked": "✔ blocked", "succeeded": "✘ succeeded", "error": "! error"}
        assert mark[cell["status"]] in label
        palette = matrix_view.INFERRED_COLOURS if cell["inferred"] else matrix_view.COLOURS
        assert palette[cell["status"]] in css
        assert ("inferred" in label) == cell["inferred"]
        flagged = cell["verdict"] in ("mismatch", "error")
        assert label.startswith("⚠") == flagged
        assert (matrix_view.MISMATCH_STYLE in css) == flagged
        for other in [c for c in cell["fired"] if c != column_id][:2]:
            if cell["status"] == "blocked":
                assert other in label


def test_a_real_mismatch_is_listed_flagged_and_says_what_the_catalog_expected(
        trimmed: matrix_view.Results) -> None:
    found = matrix_view.mismatches(trimmed)
    assert not found.empty   # the trimmed run kept browser-swapping's three mismatches
    assert set(zip(found["attack"], found["column"], strict=True)) == \
        {(m["attack"], m["column"]) for m in trimmed.data["mismatches"]}
    first = found.iloc[0]
    cell = trimmed.cell(first["attack"], first["column"])
    assert cell is not None
    label = matrix_view.cell_label(cell, first["column"])
    assert f"(catalog: {cell['expected_status']})" in label


# --- a cell's evidence ----------------------------------------------------------------------

def test_a_measured_cell_keeps_its_story_for_the_drill_down(measured_matrix: Path) -> None:
    results = matrix_view.load(measured_matrix)
    row = results.data["cells"][ATTACK]
    assert set(row) == {c["id"] for c in results.columns("profile")}
    for column_id, cell in row.items():
        story = cell["evidence"]
        ev = matrix_view.evidence(results, ATTACK, column_id)
        assert not ev.notes
        assert len(ev.steps) == len(story["steps"]) > 0
        assert list(ev.steps["text"]) == [s["text"] for s in story["steps"]]
        counted = {e["control"] for e in ev.events.to_dict("records") if e["counted"] == "yes"}
        assert counted == set(cell["fired"])
        assert ev.refusal == story["refusal"]
        table = ev.blockers.set_index("control")
        for control in cell["fired"]:
            assert table.loc[control, "fired in the run"] == "yes"
        for control in cell["expected_blockers"]:
            assert table.loc[control, "expected to block here"] == "yes"
        if cell["status"] == "blocked":
            assert ev.refusal is not None and "status" in ev.refusal
        else:
            assert ev.stolen


def test_an_inferred_cell_shows_the_legacy_run_and_says_so(trimmed: matrix_view.Results,
                                                           tmp_path: Path) -> None:
    attack_id, column_id, _ = next(x for x in _cells(trimmed) if x[2]["inferred"])
    legacy = trimmed.data["cells"][attack_id]["legacy"]
    legacy["evidence"] = {"steps": [{"actor": "victim", "text": "signs in"}], "events": []}
    (tmp_path / "with-legacy").mkdir()
    (tmp_path / "with-legacy" / matrix_view.RESULTS_FILE).write_text(json.dumps(trimmed.data))
    ev = matrix_view.evidence(matrix_view.load(tmp_path / "with-legacy"), attack_id, column_id)
    assert any(note.startswith("Inferred — not rerun") for note in ev.notes)
    assert list(ev.steps["text"]) == ["signs in"]


def test_results_from_before_evidence_was_kept_say_to_rerun(
        trimmed: matrix_view.Results) -> None:
    attack_id, column_id, _ = _cells(trimmed)[1]
    ev = matrix_view.evidence(trimmed, attack_id, column_id)
    assert ev.steps.empty and ev.refusal is None
    assert any("run the matrix again" in note for note in ev.notes)
    with pytest.raises(matrix_view.ResultsError, match="No cell"):
        matrix_view.evidence(trimmed, attack_id, "no-such-column")


def test_evidence_is_bounded_so_the_full_matrix_file_stays_small() -> None:
    long = "x" * 5000
    outcome = Outcome(ATTACK, "blocked", "s",
                      steps=[Step("attacker", long, "GET", "https://h/" + long, 400,
                                  error=long)] * 100,
                      events=[FiredEvent("pkce_required", "fired", "invalid_grant", long,
                                         "POST /token", "id")],
                      refusal={"status": 400, "body": long, "www_authenticate": None})
    story = matrix_evidence.evidence_of(outcome)
    assert len(story["steps"]) == matrix_evidence.STEP_LIMIT and story["steps_total"] == 100
    assert max(len(v) for s in story["steps"] for v in s.values()
               if isinstance(v, str)) == matrix_evidence.TEXT_LIMIT + 1   # clipped, with "…"
    assert len(story["refusal"]["body"]) == matrix_evidence.TEXT_LIMIT + 1
    assert "www_authenticate" not in story["refusal"]
    assert len(json.dumps(story)) < 40_000


# --- the files a background run leaves ------------------------------------------------------

def test_the_cli_progress_lines_count_every_cell_then_the_files(measured_matrix: Path) -> None:
    lines = matrix_job.read_progress(measured_matrix / matrix_job.PROGRESS_FILE)
    n = len(profiles.names())   # one attack × the profile columns
    assert [line["event"] for line in lines] == ["start", *["cell"] * n, "done"]
    cells = [line for line in lines if line["event"] == "cell"]
    assert [line["done"] for line in cells] == list(range(1, n + 1))
    assert {line["total"] for line in lines if "total" in line} == {n}
    data = json.loads((measured_matrix / matrix_view.RESULTS_FILE).read_text())
    for line in cells:
        assert data["cells"][line["attack"]][line["column"]]["status"] == line["status"]
    assert all(Path(f).exists() for f in lines[-1]["files"])


def test_progress_lines_half_written_or_foreign_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"event": "start", "done": 0, "total": 4}\nnot json\n[1]\n{"event": "ce')
    assert matrix_job.read_progress(path) == [{"event": "start", "done": 0, "total": 4}]
    assert matrix_job.read_progress(tmp_path / "absent") == []


def _ended_job(directory: Path, lines: list[dict[str, Any]], log: str = "") -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (directory / matrix_job.STATE_FILE).write_text(json.dumps(
        {"pid": gone.pid, "command": ["matrix"], "started": 0}))
    (directory / matrix_job.PROGRESS_FILE).write_text(
        "".join(json.dumps(line) + "\n" for line in lines))
    (directory / matrix_job.LOG_FILE).write_text(log)


def test_a_job_is_idle_finished_or_failed_by_what_it_left(tmp_path: Path) -> None:
    assert matrix_job.status(tmp_path).state == "idle"
    _ended_job(tmp_path, [{"event": "start", "done": 0, "total": 4},
                          {"event": "cell", "done": 4, "total": 4, "attack": ATTACK,
                           "column": "legacy", "status": "succeeded"},
                          {"event": "done", "done": 4, "total": 4}])
    finished = matrix_job.status(tmp_path)
    assert (finished.state, finished.done, finished.total) == ("finished", 4, 4)
    assert finished.last is not None and finished.last["column"] == "legacy"
    _ended_job(tmp_path, [{"event": "start", "done": 0, "total": 4}],
               log="fapi-lab: unexpected error: OSError: disk full")
    failed = matrix_job.status(tmp_path)
    assert failed.state == "failed" and "disk full" in failed.message
    _ended_job(tmp_path, [{"event": "error", "message": "code-replay2 is not an attack"}])
    assert "not an attack" in matrix_job.status(tmp_path).message


# --- the page agrees with itself (issue 14) ------------------------------------------------

def _with_errors(trimmed: matrix_view.Results, tmp_path: Path) -> matrix_view.Results:
    """The trimmed results with their mismatches turned into errors (as a full run had)."""
    data = json.loads(TRIMMED.read_text())
    for row in data["cells"].values():
        for cell in row.values():
            if cell["verdict"] == "mismatch":
                cell.update(status="error", verdict="error", explanation="a crash")
    (tmp_path / "errors").mkdir()
    (tmp_path / "errors" / matrix_view.RESULTS_FILE).write_text(json.dumps(data))
    return matrix_view.load(tmp_path / "errors")


def test_the_findings_tile_counts_the_rows_of_the_table_below_it(
        trimmed: matrix_view.Results, tmp_path: Path) -> None:
    for results in (trimmed, _with_errors(trimmed, tmp_path)):
        tiles = dict(matrix_layout.headline(results))
        rows = len(matrix_view.mismatches(results))
        assert rows > 0
        assert tiles["mismatches + errors"] == rows


def test_the_grid_shows_every_row_every_column_and_whole_blocker_names(
        trimmed: matrix_view.Results) -> None:
    for kind in ("profile", "control"):
        page = matrix_layout.grid_html(trimmed, kind)
        for attack in trimmed.attacks:
            assert f">{attack['id']}<" in page
        for column in trimmed.columns(kind):
            assert f">{column['id']}<" in page
        for attack_id, row in trimmed.data["cells"].items():
            for column_id, cell in row.items():
                if column_id in [c["id"] for c in trimmed.columns(kind)] \
                        and cell["status"] in ("blocked", "victim-failed"):
                    for control in cell["fired"]:
                        # a single-control column's own control is named by its header
                        assert control in page if control != column_id else True, \
                            (attack_id, column_id, control)
    assert "fapi2-security+extras" in matrix_layout.grid_html(trimmed, "profile")
    assert "max-height" not in matrix_layout.grid_html(trimmed, "profile")


def test_a_victim_failed_cell_is_shown_as_such_never_as_blocked(tmp_path: Path) -> None:
    data = json.loads(TRIMMED.read_text())
    attack_id = next(iter(data["cells"]))
    data["cells"][attack_id]["pkce_required"].update(
        status="victim-failed", fired=["pkce_required"], verdict="explained",
        explanation="the switch broke FinLens's own flow")
    (tmp_path / matrix_view.RESULTS_FILE).write_text(json.dumps(data))
    results = matrix_view.load(tmp_path)
    cell = results.cell(attack_id, "pkce_required")
    assert cell is not None
    label = matrix_view.cell_label(cell, "pkce_required")
    assert "victim failed" in label and "blocked" not in label
    assert dict(matrix_layout.headline(results))["victim failed"] == 1


def test_the_run_estimate_comes_from_the_last_measured_run_or_is_not_claimed(
        trimmed: matrix_view.Results, tmp_path: Path) -> None:
    data = trimmed.data
    measured = [cell["seconds"] for row in data["cells"].values()
                for column_id, cell in row.items() if not cell["inferred"]]
    profile_ids = {c["id"] for c in trimmed.columns("profile")}
    profile_seconds = sum(cell["seconds"] for row in data["cells"].values()
                          for column_id, cell in row.items()
                          if column_id in profile_ids and not cell["inferred"])
    overhead = data["seconds"]["total"] / sum(measured)
    assert matrix_layout.estimate(trimmed, profiles_only=True) == \
        pytest.approx(profile_seconds * overhead)
    assert matrix_layout.estimate(trimmed, profiles_only=False) == \
        pytest.approx(data["seconds"]["total"])
    # results of a profiles-only run say nothing about the single-control columns
    only = {**data, "columns": trimmed.columns("profile"),
            "cells": {a: {c: cell for c, cell in row.items() if c in profile_ids}
                      for a, row in data["cells"].items()}}
    (tmp_path / matrix_view.RESULTS_FILE).write_text(json.dumps(only))
    assert matrix_layout.estimate(matrix_view.load(tmp_path), profiles_only=False) is None
    assert matrix_layout.estimate_text(None) == ""
    assert matrix_layout.estimate_text(150.0) == " (≈ 3 min, measured on the last run)"
