"""A running lab (capture on, running.json written) for the dashboard's pages to talk to."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.shell import PAGES
from lab.config import DATA_DIR_ENV
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config

PAGE_TIMEOUT = 60
ROOT = Path(__file__).resolve().parents[2]
MATRIX_ATTACK = "code-replay"


@pytest.fixture(scope="session")
def dash_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """The lab the dashboard finds through $FAPI_LAB_HOME, as under `fapi-lab up`."""
    config = private_config(tmp_path_factory.mktemp("dash-lab"))
    running = start(config, profile="legacy", write_state=True, capture=True)
    previous = os.environ.get(DATA_DIR_ENV)
    os.environ[DATA_DIR_ENV] = str(config.data_dir)
    yield running
    if previous is None:
        os.environ.pop(DATA_DIR_ENV, None)
    else:
        os.environ[DATA_DIR_ENV] = previous
    running.stop()


@pytest.fixture
def fresh_workshop(dash_lab: RunningLab) -> Iterator[None]:
    """No workshop progress before or after: the page opens where the participant last was,
    so one exercise test's progress would choose the next test's exercise."""
    dash_lab.store.execute("DELETE FROM workshop")
    yield
    dash_lab.store.execute("DELETE FROM workshop")


@pytest.fixture
def page(dash_lab: RunningLab):  # type: ignore[no-untyped-def]
    """page("controls") → an AppTest of dashboard/screens/controls.py, run once."""

    def _page(name: str) -> AppTest:
        app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=PAGE_TIMEOUT)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return _page


@pytest.fixture(scope="session")
def measured_matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`fapi-lab matrix --profiles-only --attack code-replay`, as the matrix page starts it."""
    from dashboard import matrix_job

    out = tmp_path_factory.mktemp("matrix-measured")
    done = subprocess.run(matrix_job.command(out, profiles_only=True, attacks=[MATRIX_ATTACK]),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def fapi2_tokens(dash_lab: RunningLab) -> list[Any]:
    """The JWTs of a FAPI 2.0 link flow plus a token replay, as the capture recorded them."""
    from attacker import lookup, runner
    from dashboard import data, tokens

    saved = runner.SavedState(dash_lab.store)
    lab = data.connect()
    since = lab.last_capture_id()
    runner.run(lookup.get("at-replay-bearer"), dash_lab.config, dash_lab.store,
               runner.Configuration("fapi2-security"))
    saved.restore()
    return list(tokens.recent(lab, limit=lab.last_capture_id() - since))
