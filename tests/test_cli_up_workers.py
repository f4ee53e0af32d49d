"""`fapi-lab up --workers N`: the AS and the bank under gunicorn, shown, and stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from lab.serving.site import WORKER_HEADER
from tests.test_cli import ROOT, cli_env, start_up


def test_up_with_workers_serves_through_gunicorn_and_stops_it(tmp_path: Path) -> None:
    up = start_up(tmp_path / "lab", "--no-dashboard", "--workers", "2", "--threads", "2")
    try:
        status = up.json("status", "--json")
        assert status["serving"] == {"server": "gunicorn (gthread)", "workers": 2,
                                     "threads": 2, "single_use": "sqlite"}
        assert "serving" in up.run("status").stdout
        session = requests.Session()
        session.trust_env = False
        session.verify = status["ca_cert"]
        workers = set()
        for _ in range(20):
            with requests.Session() as fresh:   # a new connection each time
                fresh.trust_env = False
                r = fresh.get(status["as"] + "/.well-known/oauth-authorization-server",
                              verify=status["ca_cert"])
            assert r.status_code == 200 and r.json()["issuer"] == status["issuer"]
            workers.add(r.headers[WORKER_HEADER])
        assert all(int(pid) != status["pid"] for pid in workers)
        bank = session.get(status["bank"] + "/accounts")
        assert bank.status_code == 401 and WORKER_HEADER in bank.headers
        pids = {int(p) for p in workers}
        assert all(os.path.exists(f"/proc/{pid}") for pid in pids)
    finally:
        code, out = up.stop(signal.SIGINT)
    assert code == 0, out
    assert "gunicorn (gthread), 2 workers" in out, out
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids), "a worker outlived up"


def test_up_refuses_bad_workers_and_store(tmp_path: Path) -> None:
    for extra, message in ((["--workers", "-1"], "--workers"),
                           (["--store", "postgres://x"], "redis://")):
        result = subprocess.run([sys.executable, "-m", "lab.cli", "--data-dir", str(tmp_path),
                                 "up", "--no-dashboard", *extra], cwd=ROOT,
                                env=cli_env(tmp_path), capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert message in result.stderr, result.stderr
