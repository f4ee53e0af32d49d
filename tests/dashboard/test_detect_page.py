"""The Detection page charts the last `fapi-lab detect` run (saved in the lab's data directory)
for a projector: per attack detected or not and requests/seconds to revoke, and the
false-alarm rate on honest traffic against the 1 % target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import detect_view
from dashboard.shell import PAGES
from lab.cli import detect
from lab.serving.in_process import RunningLab

PAGE_TIMEOUT = 60


def figures(rate: float = 0.0025) -> dict[str, Any]:
    """What `fapi-lab detect --json` prints and saves (lab/cli/detect.py's measure())."""
    def attack(name: str, found: bool, requests: int | None, seconds: float | None
               ) -> dict[str, Any]:
        return {"attack": name, "status": "blocked" if found else "succeeded",
                "detected": found, "alerts": 3 if found else 0, "attacker_requests": 9,
                "requests_to_revoke": requests, "wall_seconds_to_revoke": seconds,
                "summary": "s"}
    return {"profile": "fapi2-security", "control": "token_usage_monitoring",
            "params": {"threshold": 80}, "users": 3, "duration": 30, "finished": 1765000000,
            "attacks": [attack("token-use-new-location", True, 4, 1.234),
                        attack("at-replay-dpop-stolen-key", True, 7, 2.5),
                        attack("some-quiet-theft", False, None, None)],
            "benign": {"workloads": ["flow", "finlens"], "requests": 4000, "failures": 0,
                       "bank_requests": 2400, "refreshes": 120, "families": 40,
                       "linkings": 30, "alerts": 6, "alerted_families": 2,
                       "revoked_families": 0, "false_alarm_rate": rate,
                       "revoked_family_rate": 0.0}}


@pytest.fixture
def saved(dash_lab: RunningLab) -> Iterator[Path]:
    """Figures where `fapi-lab detect` saves them for the running lab; removed afterwards."""
    path = detect.save(dash_lab.config.data_dir, figures())
    yield path
    path.unlink(missing_ok=True)


def _page() -> AppTest:
    app = AppTest.from_file(str(PAGES / "detect.py"), default_timeout=PAGE_TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_page_charts_the_last_detect_run(saved: Path) -> None:
    app = _page()
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["attacks detected"] == "2 of 3"
    assert tiles["false-alarm rate"] == "0.25%"
    assert tiles["honest bank requests"] == "2,400"
    assert len(app.get("vega_lite_chart")) == 2
    table = app.table[0].value
    assert list(table["attack"]) == ["token-use-new-location", "at-replay-dpop-stolen-key",
                                     "some-quiet-theft"]
    assert list(table["outcome"]) == [detect_view.DETECTED] * 2 + [detect_view.MISSED]
    assert not app.error


def test_the_page_says_how_to_get_results_when_there_are_none(
        tmp_path: Path, dash_lab: RunningLab) -> None:
    app = _page()
    app.text_input(key="detect_dir").set_value(str(tmp_path / "nothing")).run()
    assert not app.exception
    assert any("fapi-lab detect" in i.value for i in app.info)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text('{"attacks": "no"}')
    app.text_input(key="detect_dir").set_value(str(tmp_path / "bad")).run()
    assert not app.exception and any("does not look like" in i.value for i in app.info)


def test_a_false_alarm_rate_over_target_is_said_in_red(tmp_path: Path,
                                                       dash_lab: RunningLab) -> None:
    detect.save(tmp_path, figures(rate=0.03))
    app = _page()
    app.text_input(key="detect_dir").set_value(str(tmp_path / "detect")).run()
    assert not app.exception
    assert any("above the 1 % target" in e.value for e in app.error)


def test_the_charts_are_legible_on_a_projector(tmp_path: Path) -> None:
    """Large fonts everywhere text is drawn, and the numbers written on the bars."""
    detect.save(tmp_path, figures())
    results = detect_view.load(tmp_path)
    for chart in (detect_view.attacks_chart(results), detect_view.false_alarm_chart(results)):
        spec = chart.to_dict()
        assert spec["config"]["axis"]["labelFontSize"] >= 20
        assert spec["config"]["axis"]["titleFontSize"] >= 20
        assert spec["config"]["title"]["fontSize"] >= 24
        texts = [layer["mark"] for layer in spec["layer"] if layer["mark"]["type"] == "text"]
        assert texts and all(t["fontSize"] >= 20 for t in texts)
    labels = [r["label"] for r in results.rows()]
    assert labels == ["revoked after 4 requests, 1.2 s", "revoked after 7 requests, 2.5 s",
                      "not detected (succeeded)"]
    assert json.dumps(detect_view.false_alarm_chart(results).to_dict()).count("0.25%") >= 1
