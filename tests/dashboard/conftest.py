"""A running lab (capture on, running.json written) for the dashboard's pages to talk to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.config import DATA_DIR_ENV
from lab.runner import RunningLab, start
from tests.conftest import make_config

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"
PAGE_TIMEOUT = 60


@pytest.fixture(scope="session")
def dash_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """The lab the dashboard finds through $FAPI_LAB_HOME, as under `fapi-lab up`."""
    config = make_config(tmp_path_factory.mktemp("dash-lab"))
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
def page(dash_lab: RunningLab):  # type: ignore[no-untyped-def]
    """page("controls") → an AppTest of dashboard/pages/controls.py, run once."""

    def _page(name: str) -> AppTest:
        app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=PAGE_TIMEOUT)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return _page
