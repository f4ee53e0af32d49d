"""The same story with capture on, as `fapi-lab up` runs by default: every click and every
back-channel call passes mitmproxy, and each leg is recorded as evidence."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from tests.browser.test_link_and_revoke_in_browser import link_two_accounts_then_revoke

pytestmark = pytest.mark.browser


@pytest.fixture
def captured_lab(lab: RunningLab, tmp_path: Path) -> Iterator[RunningLab]:
    """A second lab with capture on. It shares the session lab's CA and server key, so the
    session's Chromium (pinned to that key) trusts it too."""
    config = private_config(tmp_path / "captured")
    shutil.copytree(lab.config.pki_dir, config.pki_dir)
    running = start(config, profile="fapi2-security", write_state=False, capture=True)
    yield running
    running.stop()


def test_the_story_works_through_mitmproxy_and_every_leg_is_captured(
        captured_lab: RunningLab, page: Any, shots: Path) -> None:
    link_two_accounts_then_revoke(captured_lab, page, shots)
    legs = {row["leg"] for row in captured_lab.store.query("SELECT DISTINCT leg FROM captures")}
    assert {"tpp_ui", "par", "authz_request", "authz_response", "token", "resource"} <= legs
