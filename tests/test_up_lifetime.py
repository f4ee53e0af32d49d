"""`fapi-lab up` owns its data directory and its children: one lab per directory, no orphans.

A second `up` on the same directory is refused by a lock, not by a race on running.json;
a `kill -9` of `up` takes the dashboard and gunicorn with it; a busy port names its owner.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.test_cli import ROOT, START_TIMEOUT, cli_env, fapi_lab, free_port, start_up


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


def test_kill_9_of_up_takes_the_dashboard_and_gunicorn_with_it(tmp_path: Path) -> None:
    """Before: streamlit and the gunicorn master and workers lived on, holding their ports."""
    up = start_up(tmp_path / "lab", "--workers", "1")
    status = up.json("status")
    children = psutil.Process(up.proc.pid).children(recursive=True)
    names = " ".join(" ".join(c.cmdline()) for c in children)
    assert "streamlit" in names and "lab.serving.gunicorn_app" in names, names
    grandchildren = [c for c in children if c.ppid() != up.proc.pid]
    assert grandchildren, "no gunicorn worker found"
    up.proc.send_signal(signal.SIGKILL)
    up.proc.communicate(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
    assert status["pid"] == up.proc.pid
    for name in ("as", "bank"):  # gunicorn's ports are free for the next `up`
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", up.ports[name]))


def test_a_busy_port_names_the_process_that_holds_it(tmp_path: Path) -> None:
    port = free_port()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys, time\n"
         f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
         "print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = fapi_lab(tmp_path, "up", "--no-capture", "--no-dashboard", "--as-port",
                          str(port), "--bank-port", str(free_port()), "--tpp-port",
                          str(free_port()))
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1, result.stderr
    assert f"port {port}" in result.stderr and f"pid {holder.pid}" in result.stderr
    assert "python" in result.stderr and "--as-port" in result.stderr
    assert f"kill {holder.pid}" in result.stderr
