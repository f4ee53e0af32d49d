"""`fapi-lab matrix` as a background job the dashboard starts, follows and stops.

The matrix takes minutes; a Streamlit rerun (or a reload, or a second browser tab) must not
lose it. So it runs as its own process group, and what the page needs to find it again sits
in the results directory: job.json (pid, command), progress.jsonl (the CLI's `--progress`
lines) and job.log (its terminal output).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data

ROOT = Path(__file__).resolve().parent.parent
DIR_ENV = "FAPI_LAB_MATRIX_DIR"            # where results go (default <data dir>/matrix)
ATTACKS_ENV = "FAPI_LAB_MATRIX_ATTACKS"    # comma-separated attack ids: a quick partial run
STATE_FILE, PROGRESS_FILE, LOG_FILE = "job.json", "progress.jsonl", "job.log"

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}   # this process's own jobs, to reap them


class JobError(Exception):
    """The job could not be started (one is running, the directory is not writable...)."""


@dataclass(frozen=True)
class JobStatus:
    """state: "idle" (never started here), "running", "finished", "failed" or "stopped"."""

    state: str
    done: int = 0
    total: int = 0
    last: dict[str, Any] | None = None
    message: str = ""
    pid: int | None = None
    started: float | None = None
    profiles_only: bool = False

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


def results_dir() -> Path:
    """$FAPI_LAB_MATRIX_DIR, else `matrix/` in the lab's data directory."""
    configured = os.environ.get(DIR_ENV)
    return Path(configured) if configured else data.lab_config().data_dir / "matrix"


def quick_attacks() -> list[str]:
    return [a.strip() for a in os.environ.get(ATTACKS_ENV, "").split(",") if a.strip()]


def command(directory: Path, *, profiles_only: bool, attacks: list[str] | None = None
            ) -> list[str]:
    cmd = [sys.executable, "-m", "lab.cli", "matrix", "--out", str(directory),
           "--progress", str(directory / PROGRESS_FILE)]
    if profiles_only:
        cmd.append("--profiles-only")
    for attack_id in attacks or []:
        cmd += ["--attack", attack_id]
    return cmd


def start(directory: Path, *, profiles_only: bool, attacks: list[str] | None = None
          ) -> JobStatus:
    """Start the matrix in the background (one job per directory at a time)."""
    if status(directory).running:
        raise JobError("A matrix run is already under way for these results.")
    cmd = command(directory, profiles_only=profiles_only, attacks=attacks)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / PROGRESS_FILE).write_text("")
        with (directory / LOG_FILE).open("wb") as log:
            child = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as error:
        raise JobError(f"The matrix could not be started in {directory}: {error}") from None
    _CHILDREN[child.pid] = child
    _write_state(directory, {"pid": child.pid, "started": time.time(), "command": cmd,
                             "profiles_only": profiles_only, "stopped": False})
    return status(directory)


def status(directory: Path) -> JobStatus:
    """What the last job started for `directory` is doing, from its files and its pid."""
    state = _read_state(directory)
    if state is None:
        return JobStatus("idle")
    lines = read_progress(directory / PROGRESS_FILE)
    counted = [line for line in lines if "total" in line]
    cells = [line for line in lines if line.get("event") == "cell"]
    last_event = lines[-1].get("event") if lines else None
    pid = state.get("pid") if isinstance(state.get("pid"), int) else None
    common: dict[str, Any] = {
        "done": int(counted[-1].get("done", 0)) if counted else 0,
        "total": int(counted[-1].get("total", 0)) if counted else 0,
        "last": cells[-1] if cells else None, "pid": pid,
        "started": state.get("started"), "profiles_only": bool(state.get("profiles_only"))}
    if pid is not None and _alive(pid, state):
        return JobStatus("running", **common)
    if last_event == "done":
        return JobStatus("finished", **common)
    if state.get("stopped"):
        return JobStatus("stopped", message="stopped from the dashboard", **common)
    errors = [line for line in lines if line.get("event") == "error"]
    message = str(errors[-1].get("message")) if errors else _log_tail(directory)
    return JobStatus("failed", message=message or "the matrix process ended without results",
                     **common)


def stop(directory: Path, *, grace: float = 15.0) -> JobStatus:
    """Interrupt the job (Ctrl-C: its private labs stop and clean up), then kill what is left."""
    state = _read_state(directory)
    pid = state.get("pid") if state else None
    if state is None or not isinstance(pid, int) or not _alive(pid, state):
        return status(directory)
    state["stopped"] = True
    _write_state(directory, state)
    _signal_group(pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid, state):
        time.sleep(0.2)
    # workers that outlived the interrupt (the leader may be reaped already: no getpgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    return status(directory)


def read_progress(path: Path) -> list[dict[str, Any]]:
    """The progress lines written so far; a half-written or foreign line is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = []
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def _alive(pid: int, state: dict[str, Any]) -> bool:
    """True while the job's process runs (a zombie or a reused pid does not count)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)   # our child from before a module reload: reap it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False    # another user's process: the pid was reused
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True     # no /proc to check against (not Linux): trust the signal
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
        return False
    cmd = state.get("command")
    wanted = [str(part).encode() for part in cmd[-6:]] if isinstance(cmd, list) else [b"matrix"]
    return all(part in cmdline for part in wanted)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # start_new_session made the job the leader of its own group: its workers are in it too
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)


def _read_state(directory: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    (directory / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def _log_tail(directory: Path, lines: int = 5) -> str:
    try:
        text = (directory / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
