"""`fapi-lab` as a user runs it: a subprocess against a lab started by `fapi-lab up`."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests

from lab.controls import catalog
from lab.controls import events as lab_events
from lab.domain.customers import DEMO_USERS
from lab.ports import free_loopback_port as free_port
from lab.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90



def cli_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, FAPI_LAB_HOME=str(data_dir), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("FAPI_LAB_DEBUG", None)
    return env


def fapi_lab(data_dir: Path, *args: str, stdin: str | None = None, timeout: float = 60
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=ROOT,
                          env=cli_env(data_dir), capture_output=True, text=True,
                          input=stdin if stdin is not None else "", timeout=timeout)


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int | None = None
                         ) -> None:
    """Non-zero, one readable line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    if code is not None:
        assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("fapi-lab"), result.stderr


@dataclass
class UpProcess:
    data_dir: Path
    proc: subprocess.Popen[str]
    ports: dict[str, int]

    @property
    def state_file(self) -> Path:
        return self.data_dir / "running.json"

    def run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return fapi_lab(self.data_dir, *args, **kw)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=30)
        return self.proc.returncode, out


def start_up(data_dir: Path, *extra: str) -> UpProcess:
    """`fapi-lab up` on free ports; returns once running.json exists and status answers."""
    ports = {"as": free_port(), "bank": free_port(), "tpp": free_port()}
    dashboard = [] if "--no-dashboard" in extra else ["--dashboard-port", str(free_port())]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.cli", "--data-dir", str(data_dir), "up", "--no-capture",
         "--as-port", str(ports["as"]), "--bank-port", str(ports["bank"]),
         "--tpp-port", str(ports["tpp"]), *dashboard, *extra],
        cwd=ROOT, env=cli_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    up = UpProcess(data_dir, proc, ports)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"fapi-lab up exited {proc.returncode}: {proc.stdout.read()}")  # type: ignore[union-attr]
        if up.state_file.exists() and up.run("status").returncode == 0:
            return up
        time.sleep(0.3)
    up.stop(signal.SIGKILL)
    raise AssertionError("fapi-lab up did not start in time")


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    running = start_up(tmp_path_factory.mktemp("cli-lab"))
    yield running
    code, out = running.stop()
    assert code == 0, out


def test_status_json_has_the_urls_issuer_ca_profile_and_controls(up: UpProcess) -> None:
    status = up.json("status")
    assert status["as"] == f"https://127.0.0.1:{up.ports['as']}"
    assert status["bank"] == f"https://127.0.0.1:{up.ports['bank']}"
    assert status["tpp"] == f"https://127.0.0.1:{up.ports['tpp']}"
    assert status["issuer"] == status["as"]
    assert Path(status["ca_cert"]).exists()
    assert status["profile"] == "fapi2-security"
    assert "pkce_required" in status["enabled_controls"]
    assert "issuer" in up.run("status").stdout


def test_up_starts_the_dashboard_and_status_names_it(up: UpProcess) -> None:
    deadline = time.monotonic() + 60
    while (url := up.json("status").get("dashboard")) is None and time.monotonic() < deadline:
        time.sleep(0.5)   # Streamlit answers a few seconds after the lab
    assert url is not None and url.startswith("http://127.0.0.1:")
    session = requests.Session()
    session.trust_env = False
    assert session.get(url + "/_stcore/health", timeout=10).status_code == 200
    assert json.loads(up.state_file.read_text())["dashboard"] == url
    assert url in up.run("status").stdout


def test_controls_set_show_and_list_go_through_the_running_lab(up: UpProcess) -> None:
    result = up.run("controls", "set", "pkce_required=off", "code_short_lifetime.lifetime=30")
    assert result.returncode == 0, result.stderr
    assert "pkce_required: off" in result.stdout
    shown = up.json("controls", "show", "pkce_required")
    assert shown["on"] is False
    assert "code-injection" in [a["id"] for a in shown["attacks"]]
    assert shown["definition"] == "lab/controls/catalog.py"
    assert up.json("controls", "show", "code_short_lifetime")["params"]["lifetime"] == 30
    listing = up.json("controls")
    assert [c["id"] for c in listing["controls"]] == [c.id for c in catalog.CONTROLS]
    assert listing["profile"] == "fapi2-security*"
    text = up.run("controls", "show", "pkce_required").stdout
    for word in ("PKCE required", "RFC 7636", "fapi2-security", "docs/controls/pkce_required.md",
                 "tests/controls/test_pkce_required.py", "Why"):
        assert word in text
    assert up.run("controls", "set", "pkce_required=on").returncode == 0


@pytest.mark.parametrize("assignment", ["no_such_control=on", "pkce_required=maybe",
                                        "pkce_required", "code_short_lifetime.lifetime=soon"])
def test_bad_controls_set_is_a_readable_error(up: UpProcess, assignment: str) -> None:
    assert_clean_failure(up.run("controls", "set", assignment), 2)


def test_controls_show_unknown_id_is_a_readable_error(up: UpProcess) -> None:
    result = up.run("controls", "show", "no_such_control")
    assert_clean_failure(result, 2)
    assert "no_such_control" in result.stderr


def test_profile_lists_marks_current_and_applies(up: UpProcess) -> None:
    assert "fapi2-security" in up.run("profile").stdout
    assert up.run("profile", "legacy").returncode == 0
    status = up.json("status")
    assert (status["profile"], status["enabled_controls"]) == ("legacy", [])
    listing = up.json("profile")
    assert [p["name"] for p in listing["profiles"] if p["current"]] == ["legacy"]
    assert_clean_failure(up.run("profile", "fapi9"), 2)
    assert up.run("profile", "fapi2-security").returncode == 0


def test_clock_advance_moves_lab_time_and_totp_stays_on_real_time(up: UpProcess) -> None:
    assert up.run("clock", "reset").returncode == 0
    result = up.run("clock", "advance", "20m")
    assert result.returncode == 0, result.stderr
    assert "TOTP" in result.stdout and "fapi-lab clock reset" in result.stdout
    clock = up.json("clock")
    assert clock["offset"] == 1200.0
    alice = next(u for u in DEMO_USERS if u.username == "alice")
    shown = up.run("totp", "alice")
    totp = pyotp.TOTP(alice.totp_secret or "")
    # an authenticator app on a phone shows the real-time code; the lab accepts that one
    assert shown.stdout.strip() in {totp.at(time.time() + d) for d in (-30, 0)}
    assert "real time" in shown.stderr
    assert_clean_failure(up.run("clock", "advance", "soon"), 2)
    assert up.run("clock", "reset").returncode == 0


def test_events_show_what_fired_filtered_by_request_and_control(up: UpProcess) -> None:
    store = SQLiteStore(up.data_dir / "lab.sqlite3")
    tag = f"cli-{time.time_ns()}"
    lab_events.record(store, lab_events.ControlFired(
        "pkce_required", tag, "as", "GET /authorize", "invalid_request", "no code_challenge"))
    lab_events.record(store, lab_events.ControlFired(
        "aud_check", tag + "-x", "bank", "GET /accounts", "invalid_token", "wrong aud"))
    events = up.json("events", "--request-id", tag)["events"]
    assert [(e["control"], e["reason"]) for e in events] == [("pkce_required",
                                                             "no code_challenge")]
    by_control = up.json("events", "--control", "aud_check")["events"]
    assert tag + "-x" in [e["request_id"] for e in by_control]
    assert "pkce_required" in up.run("events", "--limit", "5").stdout
    assert_clean_failure(up.run("events", "--control", "nope"), 2)


def test_events_follow_prints_new_events_until_ctrl_c(up: UpProcess) -> None:
    follow = subprocess.Popen([sys.executable, "-m", "lab.cli", "events", "--follow", "--json",
                               "--limit", "1"], cwd=ROOT, env=cli_env(up.data_dir),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follow.stdout or ()],
                     daemon=True).start()
    tag = f"follow-{time.time_ns()}"
    lab_events.record(SQLiteStore(up.data_dir / "lab.sqlite3"), lab_events.ControlFired(
        "scope_check", tag, "bank", "POST /payments", "insufficient_scope", "no payments:write"))
    # Wait for the event itself, not a fixed time: a loaded CI machine starts Python slowly,
    # and Ctrl-C must reach the follow loop, not the interpreter's imports.
    seen, deadline = [], time.monotonic() + 60
    while not any(tag in line for line in seen) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=1))
    assert any(tag in line for line in seen), f"follow never printed the event: {seen}"
    follow.send_signal(signal.SIGINT)
    _, err = follow.communicate(timeout=20)
    assert follow.returncode == 0, err


def test_totp_for_bob_points_at_the_sms_inbox(up: UpProcess) -> None:
    result = up.run("totp", "bob")
    assert result.returncode == 0
    assert f"https://127.0.0.1:{up.ports['as']}/lab/sms" in result.stdout


def test_a_second_up_for_the_same_data_dir_is_refused(up: UpProcess) -> None:
    result = up.run("up", "--no-capture", "--as-port", str(free_port()),
                    "--bank-port", str(free_port()), "--tpp-port", str(free_port()))
    assert_clean_failure(result)
    assert f"in use by pid {up.proc.pid} (fapi-lab up" in result.stderr, result.stderr


def test_reset_refuses_while_the_lab_runs(up: UpProcess) -> None:
    result = up.run("reset", "--yes")
    assert_clean_failure(result)
    assert up.state_file.exists()


def test_up_on_a_port_in_use_is_a_readable_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = fapi_lab(tmp_path, "up", "--no-capture", "--as-port", str(port),
                          "--bank-port", str(free_port()), "--tpp-port", str(free_port()))
    assert_clean_failure(result)
    assert f"port {port}" in result.stderr and "--as-port" in result.stderr


def test_up_on_a_non_loopback_host_needs_allow_remote(tmp_path: Path) -> None:
    result = fapi_lab(tmp_path, "up", "--no-capture", "--host", "0.0.0.0")
    assert_clean_failure(result, 2)
    assert "--allow-remote" in result.stderr
    assert not (tmp_path / "running.json").exists()


def test_status_is_non_zero_when_no_lab_runs(tmp_path: Path) -> None:
    result = fapi_lab(tmp_path, "status", "--json")
    assert_clean_failure(result, 3)
    assert "no lab is running" in result.stderr


def test_status_is_non_zero_for_a_stale_running_json(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "running.json").write_text(json.dumps({"pid": dead.pid, "as": "https://x"}))
    result = fapi_lab(tmp_path, "status")
    assert_clean_failure(result, 3)
    assert f"pid {dead.pid}" in result.stderr


def test_totp_works_without_a_running_lab(tmp_path: Path) -> None:
    result = fapi_lab(tmp_path, "totp", "mallory")
    mallory = next(u for u in DEMO_USERS if u.username == "mallory")
    totp = pyotp.TOTP(mallory.totp_secret or "")
    assert result.stdout.strip() in {totp.at(time.time() + d) for d in (-30, 0)}
    assert_clean_failure(fapi_lab(tmp_path, "totp", "zed"), 2)


def test_controls_show_works_from_the_catalog_without_a_lab(tmp_path: Path) -> None:
    result = fapi_lab(tmp_path, "controls", "show", "tpp_checks_iss", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["on"] is None
    assert "mix-up" in [a["id"] for a in shown["attacks"]]
    assert shown["definition"] == "lab/controls/catalog_fapi2.py"


def banner_lines(proc: subprocess.Popen[str], last: str = "Press Ctrl-C to stop.") -> str:
    """What `fapi-lab up` printed up to its banner's last line (within START_TIMEOUT).

    `status` answers before the banner is printed (the dashboard, the attacker's fixtures
    start in between), and a signal that early skips the banner."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout or ():
            lines.put(line)
            if last in line:
                return

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and not (seen and last in seen[-1]):
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=1))
    return "".join(seen)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path: Path, sig: int) -> None:
    up = start_up(tmp_path / "lab", "--profile", "oauth2")
    assert up.json("status")["profile"] == "oauth2"
    banner = banner_lines(up.proc)   # read up to the banner's last line first
    code, out = up.stop(sig)
    out = banner + out
    assert code == 0, out
    assert "stopped" in out
    assert not up.state_file.exists()
    with socket.socket() as probe:  # the port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", up.ports["as"]))
    for word in ("alice", "wonderland", "bob", "canwefixit", "/lab/sms", "mallory", "ca.pem",
                 "admin-token", "oauth2"):
        assert word in out
    assert_clean_failure(up.run("status"), 3)


def test_reset_wipes_a_stopped_lab_and_asks_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "lab"
    up = start_up(data_dir)
    assert up.stop()[0] == 0
    assert_clean_failure(fapi_lab(data_dir, "reset"), 2)  # no terminal, no --yes
    assert data_dir.exists()
    result = fapi_lab(data_dir, "reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert not data_dir.exists()


def test_reset_never_wipes_a_directory_that_is_not_a_lab(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    assert_clean_failure(fapi_lab(tmp_path, "reset", "--yes"))
    assert (tmp_path / "precious.txt").exists()
