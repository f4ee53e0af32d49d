"""The dashboard's view of the lab: reading the capture does not add to it."""

from __future__ import annotations

import requests

from dashboard import data
from lab.serving.in_process import RunningLab


def test_reading_the_capture_through_the_admin_api_is_not_captured(dash_lab: RunningLab) -> None:
    lab = data.connect()
    before = lab.last_capture_id()
    for _ in range(3):
        lab.status()
        lab.captures(since=before)
    assert lab.last_capture_id() == before      # the operator's channel is no leg
    session = requests.Session()
    session.trust_env = False
    session.get(dash_lab.config.as_url + "/.well-known/oauth-authorization-server",
                verify=str(dash_lab.config.ca_cert_path), timeout=10)
    new = lab.captures(since=before)
    assert [c["url"].split("/", 3)[-1] for c in new] == [
        ".well-known/oauth-authorization-server"]
    assert lab.last_capture_id() == new[0]["id"]


def test_metadata_changes_lists_added_removed_and_changed_fields() -> None:
    rows = data.metadata_changes({"a": 1, "b": [1], "c": "x"}, {"a": 1, "b": [1, 2], "d": True})
    assert rows == [{"field": "b", "before": [1], "after": [1, 2]},
                    {"field": "c", "before": "x", "after": "(absent)"},
                    {"field": "d", "before": "(absent)", "after": True}]
