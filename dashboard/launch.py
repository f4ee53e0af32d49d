"""Start the Streamlit dashboard as a child process, bound to loopback, offline.

Streamlit runs scripts in its own server process; `fapi-lab up` starts it next to the
lab and stops it on Ctrl-C, `fapi-lab dashboard` runs it alone against a running lab.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from lab.serving.children import dying_with_parent

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8501
START_TIMEOUT = 60.0


class DashboardStartError(Exception):
    """Streamlit did not come up (port taken, missing package...)."""


def command(host: str, port: int) -> list[str]:
    """`streamlit run` with everything that would reach out switched off."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
            "--global.developmentMode", "false",
            "--client.toolbarMode", "viewer",
            "--theme.base", "light"]


def environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FAPI_LAB_HOME"] = str(data_dir)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


@dataclass
class DashboardProcess:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def healthy(url: str) -> bool:
    session = requests.Session()
    session.trust_env = False
    try:
        return session.get(url + "/_stcore/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False
    finally:
        session.close()


def start(data_dir: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          log: Path | None = None) -> DashboardProcess:
    """Start Streamlit and wait until it answers; its output goes to `log` (or nowhere)."""
    url = f"http://{host}:{port}"
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(dying_with_parent(command(host, port)), env=environment(data_dir),
                               stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DashboardStartError(f"streamlit exited with code {process.returncode}"
                                      + (f" (see {log})" if log else ""))
        if healthy(url):
            return DashboardProcess(url, process)
        time.sleep(0.3)
    DashboardProcess(url, process).stop()
    raise DashboardStartError(f"streamlit did not answer at {url} within {START_TIMEOUT:.0f} s")
