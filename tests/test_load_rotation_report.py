"""lab.load.rotation_report: before/after figures of a key rotation from a workload's summary."""

from __future__ import annotations

from lab.load import rotation_report


def test_before_and_after_figures_come_from_the_counts_at_rotation_and_at_the_end():
    raw = {"started": 100.0, "at": 102.0, "ended": 112.0, "rotated": True, "new_kid": "n",
           "old_kid": "o", "requests_before": 200, "failures_before": 0,
           "requests_total": 1200, "failures_total": 3, "after_requests": 200}
    steps = [{"name": "GET /accounts (bearer)", "requests": 900},
             {"name": "GET /accounts (bearer) (new key)", "requests": 300}]
    out = rotation_report.figures(raw, steps)
    assert out is not None
    assert out["requests_before"] == 200 and out["requests_after"] == 1000
    assert out["failures_before"] == 0 and out["failures_after"] == 3
    assert out["rps_before"] == 100.0 and out["rps_after"] == 100.0
    assert out["new_key_requests"] == 300
    assert "after 3/1000 failures" in rotation_report.line("bearer", out)


def test_a_rotation_not_reached_or_refused_says_why():
    assert rotation_report.figures(None, []) is None
    out = rotation_report.figures({"rotated": False, "after_requests": 50}, [])
    assert out == {"after_requests": 50, "rotated": False, "new_key_requests": 0}
    assert "fewer than 50 requests" in rotation_report.line("token", out)
    refused = rotation_report.figures({"rotated": False, "at": 5.0, "started": 1.0,
                                       "error": "a rotation is in progress"}, [])
    assert refused is not None
    assert "a rotation is in progress" in rotation_report.line("token", refused)


def test_garbage_in_a_summary_gives_zeros_not_an_exception():
    out = rotation_report.figures({"at": "x", "requests_before": [], "rotated": "yes"},
                                  [{"name": None, "requests": "many"}])
    assert out is not None and out["requests_before"] == 0 and out["new_key_requests"] == 0
