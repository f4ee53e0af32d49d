"""`fapi-lab up` with capture on (its default), and `fapi-lab capture list|show`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.test_cli import ROOT, START_TIMEOUT, cli_env, fapi_lab, free_port


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
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "capture" in out and "mitmproxy" in out
