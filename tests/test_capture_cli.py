"""`fapi-lab up` with capture on (its default), and `fapi-lab capture list|show`."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rich.console import Console

from lab.cli import capture as cli_capture
from lab.serving.in_process import RunningLab
from tests.test_cli import ROOT, START_TIMEOUT, banner_lines, cli_env, fapi_lab, free_port


def test_up_captures_by_default_and_the_cli_lists_and_shows(tmp_path: Path) -> None:
    ports = {"as": free_port(), "bank": free_port(), "tpp": free_port()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.cli", "--data-dir", str(tmp_path), "up",
         "--as-port", str(ports["as"]), "--bank-port", str(ports["bank"]),
         "--tpp-port", str(ports["tpp"])],
        cwd=ROOT, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (tmp_path / "running.json").exists():
            assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "fapi-lab up did not start in time"
            time.sleep(0.3)
        as_url = f"https://127.0.0.1:{ports['as']}"
        r = requests.get(as_url + "/.well-known/openid-configuration",
                         verify=str(tmp_path / "pki" / "ca.pem"), timeout=10)
        assert r.status_code == 200 and r.json()["issuer"] == as_url

        listed = fapi_lab(tmp_path, "capture", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        mine = [row for row in rows if row["request_id"] == r.headers["X-Lab-Request-Id"]]
        assert [(row["label"], row["leg"], row["status"]) for row in mine] == \
            [("as", "other", 200)]
        assert json.loads(fapi_lab(tmp_path, "capture", "list", "--leg", "token",
                                   "--json").stdout) == []
        shown = fapi_lab(tmp_path, "capture", "show", str(mine[0]["id"]), "--json")
        assert shown.returncode == 0, shown.stderr
        assert '"issuer"' in json.loads(shown.stdout)["response_body"]
        text = fapi_lab(tmp_path, "capture", "show", str(mine[0]["id"])).stdout
        assert "GET " + as_url + "/.well-known/openid-configuration" in text
        assert "openid-configuration" in fapi_lab(tmp_path, "capture", "list").stdout
        missing = fapi_lab(tmp_path, "capture", "show", "999999")
        assert missing.returncode != 0 and "Traceback" not in missing.stderr
        banner = banner_lines(proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    out = banner + out
    assert proc.returncode == 0, out
    assert "capture" in out and "mitmproxy" in out


@pytest.mark.parametrize("capture_id", [2**63, 2**64 + 5, 10**30])
def test_a_capture_id_past_sqlite_integers_is_a_404_not_a_500(lab: RunningLab,
                                                               capture_id: int) -> None:
    client = lab.apps["as"].test_client()
    token = lab.config.admin_token_path.read_text().strip()
    r = client.get(f"/admin/captures/{capture_id}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404, r.get_data(as_text=True)
    assert r.get_json()["error"] == "not_found"


HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b31m\x00\rhidden"


def test_capture_show_prints_control_characters_as_visible_escapes() -> None:
    """A captured request is attacker input: its bytes must not drive the terminal."""
    row = {"id": 7, "ts": time.time(), "label": "as", "leg": "token", "request_id": HOSTILE,
           "method": "POST", "url": "https://127.0.0.1/token?x=" + HOSTILE,
           "request_headers": [["X-Evil" + HOSTILE, HOSTILE]], "request_body": "a=1\n" + HOSTILE,
           "status": 200, "response_headers": [["X-Back", HOSTILE]],
           "response_body": HOSTILE + "\n\tindented"}
    out = io.StringIO()
    cli_capture.show(row, Console(file=out, width=200, force_terminal=True, color_system=None))
    cli_capture.listing([{**row, "status": None}],
                        Console(file=out, width=400, force_terminal=True, color_system=None))
    text = out.getvalue()
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
    assert bad == [], repr(text)
    assert "\\x1b]0;pwned" in text and "\\x9b" in text and "\\r" in text
    assert "a=1\n" in text and "\n        indented" in text  # layout kept (rich expands tabs)
