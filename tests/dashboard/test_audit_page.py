"""The audit trail page (issue 16: "the dashboard shows the trail and where it breaks"), fed by
GET /admin/audit: intact with audit_chain on, then one record edited or deleted in the store
behind the lab's back, and the page names it and marks it in the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dashboard import audit_view, data
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab


@pytest.fixture
def chained(dash_lab: RunningLab) -> Iterator[list[int]]:
    """audit_chain on and four chained records (switch changes); the profile is put back."""
    registry = Registry(dash_lab.store)
    registry.apply_profile("legacy")
    registry.set({"audit_chain": True})
    for on in (True, False, True, False):
        registry.set({"pkce_required": on})
    rows = dash_lab.store.query("SELECT seq FROM audit_log WHERE hash IS NOT NULL "
                                "ORDER BY seq DESC LIMIT 4")
    yield sorted(int(r["seq"]) for r in rows)
    registry.apply_profile("legacy")


def _row(lab: RunningLab, seq: int) -> dict[str, Any]:
    return dict(lab.store.query_one("SELECT * FROM audit_log WHERE seq = ?", (seq,)))


def _table(app: Any, index: int) -> Any:
    """A table of the page, by record number (shown as a column of its own)."""
    frame = app.table[index].value
    return frame.set_index(frame["record"].astype(int))


def test_the_page_shows_the_trail_and_where_an_edit_breaks_it(
        page: Any, dash_lab: RunningLab, chained: list[int]) -> None:
    app = page("audit")
    assert any(s.value.startswith("The trail is intact") for s in app.success), \
        [e.value for e in (*app.error, *app.warning)]
    newest = _table(app, 0)
    assert list(newest.index)[-1] >= chained[-1]
    assert set(newest.loc[chained, "link"]) == {audit_view.CHAINED}
    assert "pkce_required" in newest.loc[chained[-1], "what"]

    victim = chained[1]
    original = _row(dash_lab, victim)
    dash_lab.store.execute("UPDATE audit_log SET data = ? WHERE seq = ?",
                           ('{"changes": {"pkce_required": true}}', victim))
    try:
        app.button(key="audit_verify").click().run()
        assert not app.exception
        assert [e.value for e in app.error] == [f"The trail breaks at record #{victim}."]
        assert any(f"record {victim} was edited" in m.value for m in app.markdown)
        assert any(h.value == f"Where it breaks: record #{victim}" for h in app.subheader)
        around = _table(app, 0)
        assert around.loc[victim, "link"] == audit_view.BREAKS
        assert around.loc[chained[0], "link"] == audit_view.CHAINED
        assert around.loc[chained[2], "link"] == audit_view.AFTER
    finally:
        dash_lab.store.execute("UPDATE audit_log SET data = ? WHERE seq = ?",
                               (original["data"], victim))
    app.button(key="audit_verify").click().run()
    assert any(s.value.startswith("The trail is intact") for s in app.success)


def test_the_admin_route_shows_a_deleted_record_between_its_neighbours(
        dash_lab: RunningLab, chained: list[int]) -> None:
    lab = data.connect()
    gone = chained[1]
    original = _row(dash_lab, gone)
    dash_lab.store.execute("DELETE FROM audit_log WHERE seq = ?", (gone,))
    try:
        payload = lab.audit(limit=3)
    finally:
        dash_lab.store.execute(
            "INSERT INTO audit_log(seq, ts, kind, component, request_id, data, prev, hash) "
            "VALUES (:seq, :ts, :kind, :component, :request_id, :data, :prev, :hash)", original)
    report = payload["verify"]
    assert not report["ok"] and report["first_bad"] == gone, report
    assert len(payload["records"]) == 3
    rows = audit_view.rows(payload["around"], report)
    links = {r["#"]: r["link"] for r in rows}
    assert links[chained[0]] == audit_view.CHAINED
    assert links[gone] == audit_view.MISSING
    assert links[chained[2]] == audit_view.AFTER
    assert [r["#"] for r in rows] == sorted(r["#"] for r in rows)
    assert lab.audit()["verify"]["ok"]


def test_the_admin_route_needs_the_admin_token(dash_lab: RunningLab) -> None:
    session = requests.Session()
    session.trust_env = False
    answer = session.get(dash_lab.config.as_url + "/admin/audit", timeout=10,
                         verify=str(dash_lab.config.ca_cert_path))
    assert answer.status_code == 401
    bad = data.connect()
    with pytest.raises(data.LabUnavailableError):
        bad._get("/audit", limit="lots")


@pytest.mark.parametrize(("payload", "tone", "starts"), [
    ({"switched_on": False, "count": 3,
      "verify": {"ok": True, "records": 3, "chained": 0, "checkpoints": 0, "head": 3,
                 "notes": ["3 record(s) written while audit_chain was off carry no hash"]}},
     "warning", "audit_chain is off"),
    ({"switched_on": True, "count": 0,
      "verify": {"ok": True, "records": 0, "chained": 0, "checkpoints": 0, "head": None}},
     "info", "The trail is empty"),
    ({"switched_on": True, "count": 20,
      "verify": {"ok": False, "first_bad": 21, "problem": "record 21 is missing: the trail "
                 "ends at record 20", "records": 20, "chained": 20, "checkpoints": 21,
                 "head": 20}},
     "error", "The trail breaks at record #21."),
])
def test_the_verdict_in_one_line(payload: dict[str, Any], tone: str, starts: str) -> None:
    said = audit_view.verdict(payload)
    assert said.tone == tone and said.headline.startswith(starts), said


def test_a_cut_tail_shows_as_a_missing_row_after_the_last_record() -> None:
    records = [{"seq": n, "ts": 1_700_000_000 + n, "kind": "token_issued", "component": "as",
                "data": {"client_id": "tpp", "note": "x" * 300}, "hash": "h"}
               for n in (18, 19, 20)]
    rows = audit_view.rows(records, {"ok": False, "first_bad": 21})
    assert [(r["#"], r["link"]) for r in rows] == [
        (18, audit_view.CHAINED), (19, audit_view.CHAINED), (20, audit_view.CHAINED),
        (21, audit_view.MISSING)]
    assert len(rows[0]["what"]) <= audit_view.WHAT_WIDTH and rows[0]["what"].endswith("…")
