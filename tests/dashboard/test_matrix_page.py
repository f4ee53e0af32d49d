"""The matrix page: the grids and a cell's evidence from real results, the messages without
them, and a run started (and stopped) from the page, followed through its progress file."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import matrix_job, matrix_layout, matrix_view
from lab.controls import profiles

ROOT = Path(__file__).resolve().parents[2]
TRIMMED = Path(__file__).resolve().parent / "fixtures" / "matrix_trimmed.json"
ATTACK = "code-replay"  # the attack of the `measured_matrix` fixture (conftest.py)

Page = Callable[[str], AppTest]




@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The page's results directory, and any job started into it stopped at the end."""
    directory = tmp_path / "matrix"
    monkeypatch.setenv(matrix_job.DIR_ENV, str(directory))
    monkeypatch.setenv(matrix_job.ATTACKS_ENV, ATTACK)
    yield directory
    matrix_job.stop(directory, grace=20)
    assert not matrix_job.status(directory).running


def _texts(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success",
                                  "code") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def _shows(app: AppTest, results: matrix_view.Results, kind: str) -> bool:
    """The page shows this grid whole (every row, column and label, as one HTML table)."""
    return any(e.proto.body == matrix_layout.grid_html(results, kind) for e in app.get("html"))


def _wait(directory: Path, until: Callable[[matrix_job.JobStatus], bool],
          timeout: float = 240) -> matrix_job.JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = matrix_job.status(directory)
        if until(now):
            return now
        time.sleep(0.5)
    raise AssertionError(f"the job did not get there: {matrix_job.status(directory)}")


def test_measured_results_show_both_grids_and_the_chosen_cells_evidence(
        page: Page, results_dir: Path, measured_matrix: Path) -> None:
    shutil.copytree(measured_matrix, results_dir)
    results = matrix_view.load(results_dir)
    app = page("matrix")
    assert _shows(app, results, "profile")
    assert "no single-control columns" in _texts(app)   # a profiles-only run
    row = results.data["cells"][ATTACK]
    for column_id in (next(c for c, cell in row.items() if cell["status"] == "blocked"),
                      next(c for c, cell in row.items() if cell["status"] == "succeeded")):
        cell = row[column_id]
        app.selectbox(key="matrix_attack").set_value(ATTACK)
        app.selectbox(key="matrix_column").set_value(column_id).run()
        assert not app.exception
        shown = _texts(app)
        assert f"under `{results.column(column_id)['label']}`" in shown
        assert cell["summary"] in shown
        assert f"**Verdict: {cell['verdict']}**" in shown
        steps = [df.value for df in app.dataframe if "actor" in df.value.columns]
        assert steps and list(steps[0]["text"]) == [s["text"]
                                                    for s in cell["evidence"]["steps"]]
        events = [df.value for df in app.dataframe if "counted" in df.value.columns]
        fired_shown = set(events[0]["control"]) if events else set()
        assert set(cell["fired"]) <= fired_shown
        refusal = cell["evidence"]["refusal"]
        assert ("**Refusal**" in shown) == (refusal is not None)
        if refusal is not None:
            assert str(refusal["body"])[:60] in json.loads(
                next(c.value for c in app.code if '"body"' in c.value))["body"]
    assert app.get("download_button")


def test_a_real_mismatch_is_listed_and_opened_first(page: Page, results_dir: Path) -> None:
    results_dir.mkdir()
    shutil.copy(TRIMMED, results_dir / matrix_view.RESULTS_FILE)
    results = matrix_view.load(results_dir)
    app = page("matrix")
    found = matrix_view.mismatches(results)
    listed = next(df.value for df in app.dataframe if "detail" in df.value.columns)
    assert list(listed["attack"]) == list(found["attack"])
    first = found.iloc[0]
    assert (app.selectbox(key="matrix_attack").value,
            app.selectbox(key="matrix_column").value) == (first["attack"], first["column"])
    assert any(first["detail"] in w.value for w in app.warning)
    assert "run the matrix again" in _texts(app)    # these results predate kept evidence
    assert _shows(app, results, "control")
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["mismatches + errors"] == str(len(found))   # the tile counts the table's rows


def test_without_results_the_page_says_so_and_offers_the_run(page: Page,
                                                             results_dir: Path) -> None:
    app = page("matrix")
    assert any("No matrix results" in i.value for i in app.info)
    assert not app.dataframe
    assert not app.button(key="matrix_run_profiles").disabled
    assert app.button(key="matrix_stop").disabled


def test_a_broken_results_file_is_an_error_message_not_a_traceback(page: Page,
                                                                   results_dir: Path) -> None:
    results_dir.mkdir()
    (results_dir / matrix_view.RESULTS_FILE).write_text('{"columns": [')
    app = page("matrix")
    assert any("not valid JSON" in e.value for e in app.error)


def test_run_starts_a_job_whose_progress_fills_and_whose_results_then_show(
        page: Page, results_dir: Path) -> None:
    app = page("matrix")
    app.button(key="matrix_run_profiles").click().run()
    assert not app.exception
    assert (results_dir / matrix_job.STATE_FILE).exists()
    started = matrix_job.status(results_dir)
    assert started.state in ("running", "finished")
    if started.running:
        assert app.get("progress")
        assert app.button(key="matrix_run_full").disabled
        assert not app.button(key="matrix_stop").disabled
    halfway = _wait(results_dir, lambda s: s.done >= 1 or not s.running)
    assert halfway.last is not None and halfway.last["attack"] == ATTACK
    finished = _wait(results_dir, lambda s: not s.running)
    assert finished.state == "finished", finished.message
    assert finished.done == finished.total == len(profiles.names())   # one attack × profiles
    app.run()
    assert any("The last run finished" in s.value for s in app.success)
    results = matrix_view.load(results_dir)
    assert list(matrix_view.grid(results, "profile").labels.index) == [ATTACK]
    assert _shows(app, results, "profile")
    # the next run's time is the one this run measured, not a guess
    assert app.button(key="matrix_run_profiles").label.endswith("measured on the last run)")


def test_stop_ends_a_running_job(page: Page, results_dir: Path) -> None:
    app = page("matrix")
    app.button(key="matrix_run_full").click().run()
    running = matrix_job.status(results_dir)
    assert running.running and running.pid is not None
    app.button(key="matrix_stop").click().run()
    assert not app.exception
    stopped = matrix_job.status(results_dir)
    assert stopped.state == "stopped"
    assert any("stopped" in w.value for w in app.warning)
    assert not app.button(key="matrix_run_full").disabled
