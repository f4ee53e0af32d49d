"""`fapi-lab up` owns its data directory: one lab per directory.

A second `up` on the same directory is refused by a lock, not by a race on running.json.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.test_cli import ROOT, START_TIMEOUT, cli_env, free_port


def _up(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lab.cli", "--data-dir", str(data_dir), "up", "--no-capture",
         "--no-dashboard", "--as-port", str(free_port()), "--bank-port", str(free_port()),
         "--tpp-port", str(free_port()), *extra],
        cwd=ROOT, env=cli_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def test_two_ups_started_together_on_one_data_dir_run_one_lab(tmp_path: Path) -> None:
    """Before: both passed the running.json check while the other was still starting."""
    first, second = _up(tmp_path), _up(tmp_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if (first.poll() is not None or second.poll() is not None) and \
                    (tmp_path / "running.json").exists():
                break
            time.sleep(0.3)
        time.sleep(3)  # the loser, if any still runs, has had time to come up too
        alive = [p for p in (first, second) if p.poll() is None]
        ended = {p.pid: p.communicate(timeout=10) for p in (first, second) if p not in alive}
        assert len(alive) == 1, f"{len(alive)} `up` processes serve one data directory {ended}"
        [(loser_pid, (_, err))] = ended.items()
        assert (second if alive == [first] else first).returncode != 0
        assert f"pid {alive[0].pid}" in err and str(tmp_path) in err, err
        assert "Traceback" not in err
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=30)
    assert not (tmp_path / "running.json").exists()
