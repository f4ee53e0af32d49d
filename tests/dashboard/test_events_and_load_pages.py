"""The events feed shows what fired in the lab; the load page charts `fapi-lab load` results."""

from __future__ import annotations

from pathlib import Path

import requests
from streamlit.testing.v1 import AppTest

from dashboard import events_view
from dashboard.shell import PAGES
from lab.controls.registry import Registry
from lab.load import report
from lab.serving.in_process import RunningLab


def _refused_authorization(lab: RunningLab) -> None:
    """An authorization request without PAR while par_required is on: one fired event."""
    registry = Registry(lab.store)
    registry.apply_profile("legacy")
    registry.set({"par_required": True})
    session = requests.Session()
    session.trust_env = False
    answer = session.get(lab.config.as_url + "/authorize",
                         params={"client_id": "tpp", "response_type": "code"},
                         verify=str(lab.config.ca_cert_path), allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303, 400)
    registry.apply_profile("legacy")


def test_the_feed_shows_a_refusal_with_its_control(page, dash_lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    _refused_authorization(dash_lab)
    app = page("events")
    # A static table, whose cells wrap: a data grid cut the reason off at the column's width.
    assert not app.dataframe
    table = app.table[0].value
    assert "par_required" in list(table["control"])
    reasons = [r for r, c in zip(table["reason"], table["control"], strict=True)
               if c == "par_required"]
    assert reasons and all(len(r) > 20 for r in reasons), reasons
    app.selectbox(key="events_control").set_value("par_required").run()
    assert set(app.table[0].value["control"]) == {"par_required"}


def test_the_feed_pulls_only_new_events_and_keeps_a_bound() -> None:
    pages = [{"events": [{"id": i, "control": "c"} for i in range(1, 1001)], "last_id": 1000},
             {"events": [{"id": i, "control": "c"} for i in range(1001, 2501)][:1000],
              "last_id": 2000},
             {"events": [{"id": i, "control": "c"} for i in range(2001, 2501)], "last_id": 2500},
             {"events": [], "last_id": 2500}]
    asked: list[int] = []

    def fetch(since: int, limit: int) -> dict[str, object]:
        asked.append(since)
        return pages[len(asked) - 1]

    feed = events_view.Feed()
    feed.pull(fetch)
    assert asked == [0, 1000, 2000]
    assert feed.total == 2500 and len(feed.events) == events_view.KEPT
    assert feed.events[-1]["id"] == 2500
    feed.pull(fetch)
    assert asked[-1] == 2500 and feed.total == 2500
    assert [r["#"] for r in events_view.rows(feed.events, newest=3)] == [2500, 2499, 2498]


def test_the_load_page_charts_results_and_explains_when_there_are_none(
        tmp_path: Path, dash_lab: RunningLab) -> None:
    app = AppTest.from_file(str(PAGES / "load.py"), default_timeout=30)
    app.run()
    app.text_input(key="load_dir").set_value(str(tmp_path / "nothing")).run()
    assert not app.exception
    assert any("fapi-lab load" in i.value for i in app.info)
    results = {"bearer": report.Result("bearer", 900, 0, 300.0, 5.0, 9.0, 12.0),
               "dpop": report.Result("dpop", 700, 0, 230.0, 7.0, 12.0, 16.0)}
    report.write(tmp_path / "run", results, {"users": 4, "duration": 10,
                                             "profile": "fapi2-security", "locust": "2.x"})
    app.text_input(key="load_dir").set_value(str(tmp_path / "run")).run()
    assert not app.exception
    comparisons = app.dataframe[0].value
    assert list(comparisons["comparison"]) == ["DPoP vs bearer"]
    assert abs(float(comparisons["req/s vs baseline"][0]) - 230 / 300) < 0.01
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{not json")
    app.text_input(key="load_dir").set_value(str(tmp_path / "bad")).run()
    assert not app.exception
    assert any("not readable JSON" in i.value for i in app.info)
