"""panva's oidc-provider beside the lab, for the benchmark (loadtests/oidc_provider/bench_op.mjs).

It runs from the packages `./fapi-lab test` installs for the interop tests
(tests/interop/node_modules), started the way those tests start Node helpers: a child
process announcing itself with one JSON line, ended when its stdin closes. It serves
with the lab's own server certificate, pinned to the server's CPUs like gunicorn.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .bench_wrk import ROOT, BenchError

NODE_MODULES = ROOT / "tests" / "interop" / "node_modules"
SCRIPT = ROOT / "loadtests" / "oidc_provider" / "bench_op.mjs"
START_TIMEOUT = 30.0


def require() -> str:
    """Node.js ≥ 20 and the interop packages, or a message saying how to get them."""
    node = shutil.which("node")
    if node is None:
        raise BenchError("oidc-provider needs Node.js >= 20 on PATH (apt-get install -y nodejs "
                         "npm); --no-oidc-provider leaves it out")
    if not (NODE_MODULES / "oidc-provider" / "package.json").exists():
        raise BenchError(f"{NODE_MODULES} lacks oidc-provider: run `npm ci --prefix "
                         "tests/interop` (./fapi-lab test does it); --no-oidc-provider leaves "
                         "it out")
    return node


def package_version() -> str:
    data = json.loads((NODE_MODULES / "oidc-provider" / "package.json").read_text())
    return str(data.get("version", "unknown"))


class OidcProvider:
    """One oidc-provider process on 127.0.0.1:`port`; `stop()` ends it."""

    def __init__(self, *, port: int, cert: Path, key: Path, client_id: str,
                 client_jwks: dict[str, Any], scope: str, resource: str, cpus: str) -> None:
        node = require()
        self.issuer = f"https://127.0.0.1:{port}"
        self._dir = tempfile.TemporaryDirectory(prefix="fapi-lab-bench-op-")
        config = Path(self._dir.name) / "config.json"
        config.write_text(json.dumps({
            "host": "127.0.0.1", "port": port, "cert": str(cert), "key": str(key),
            "node_modules": str(NODE_MODULES), "client_id": client_id,
            "client_jwks": client_jwks, "scope": scope, "resource": resource}))
        self._stderr = Path(self._dir.name) / "stderr.log"
        env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
        env["NODE_ENV"] = "production"
        command = [node, str(SCRIPT), str(config)]
        with self._stderr.open("w") as err:
            self.process = subprocess.Popen(
                ["taskset", "-c", cpus, *command] if cpus else command, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=0.2):
                    if self.process.poll() is not None:
                        break
                    continue
                line = self.process.stdout.readline()
                if not line:
                    break
                with contextlib.suppress(ValueError):
                    if json.loads(line).get("event") == "ready":
                        return
        raise BenchError(f"oidc-provider did not start: {self.stderr()[-800:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        try:
            return self._stderr.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                if self.process.stdin:
                    self.process.stdin.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()
        self._dir.cleanup()
