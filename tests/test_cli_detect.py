"""`fapi-lab detect` on a small mix: one honest Locust user, a short run, the default attacks.

Asserted: the shape of the figures, every default attack detected (its family revoked by
token_usage_monitoring on the attacker's own request), and the false-alarm count printed.
Timings and rates are printed, never asserted (they depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli import detect
from lab.cli.client import CliError

ROOT = Path(__file__).resolve().parent.parent


def test_the_default_attacks_are_those_monitoring_stops_alone() -> None:
    ids = [a.id for a in detect.default_attacks()]
    assert "token-use-new-location" in ids
    assert "dpop-pregenerated-proof" not in ids   # not_alone: an alert, never a revocation


def test_params_are_the_controls_own() -> None:
    assert detect.parse_params(["threshold=80", 'weights={"address": 20}']) == {
        "threshold": 80, "weights": {"address": 20}}
    with pytest.raises(CliError):
        detect.parse_params(["sensitivity=3"])


def test_detect_on_a_small_mix(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lab.cli", "--data-dir", str(tmp_path / "unused"), "detect",
         "--users", "1", "--duration", "10", "--workers", "1", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    print(result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)   # stdout is the JSON alone; progress went to stderr
    print(json.dumps(figures, indent=2))
    assert "running through the capture" in result.stderr
    attacks = {a["attack"]: a for a in figures["attacks"]}
    assert set(attacks) == {a.id for a in detect.default_attacks()}
    for attack in attacks.values():
        assert attack["detected"] is True and attack["status"] == "blocked", attack
        assert attack["requests_to_revoke"] >= 1
        assert set(attack) >= {"alerts", "attacker_requests", "wall_seconds_to_revoke"}
    benign = figures["benign"]
    assert benign["bank_requests"] > 0 and benign["families"] > 0, benign
    for key in ("alerts", "alerted_families", "revoked_families", "false_alarm_rate"):
        assert key in benign, benign
    printed = "\n".join(detect.lines(figures))
    assert f"false alarms: {benign['alerts']} alerts" in printed, printed
    assert "token-use-new-location: DETECTED" in printed, printed
    # saved for the dashboard's Detection page, in the lab's data directory, and readable there
    saved = detect.results_path(tmp_path / "unused")
    assert json.loads(saved.read_text()) == figures
    from dashboard import detect_view

    shown = detect_view.load(saved.parent)
    assert shown.detected() == len(attacks)
    assert [r["attack"] for r in shown.rows()] == list(attacks)
