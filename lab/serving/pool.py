"""Start and stop the gunicorn process group that serves the AS and the bank.

The parent (`fapi-lab up`) has bootstrapped the lab; gunicorn runs as a child process
group so that stopping it stops its workers too. Ready means an HTTPS request through
each port got an answer from a worker, not merely that the port is bound.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lab.serving.children import dying_with_parent

from .spec import SPEC_ENV, ServingSpec

READY_PATHS = {"as": "/.well-known/oauth-authorization-server", "bank": "/"}


class ServingStartError(RuntimeError):
    """gunicorn did not come up; the message carries the end of its log."""


@dataclass
class ServingPool:
    spec: ServingSpec
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)   # the master and its workers
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _answers(url: str, context: ssl.SSLContext) -> bool:
    try:
        with urllib.request.urlopen(url, context=context, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True          # a worker answered, whatever it said
    except (urllib.error.URLError, OSError):
        return False


def start(specs: list[ServingSpec], *, timeout: float = 60.0) -> list[ServingPool]:
    """Launch every pool at once, then wait until each answers (or stop them all)."""
    pools: list[ServingPool] = []
    try:
        for spec in specs:
            pools.append(launch(spec))
        for pool in pools:
            wait_ready(pool, timeout)
    except BaseException:
        for pool in pools:
            pool.stop()
        raise
    return pools


def launch(spec: ServingSpec) -> ServingPool:
    config = spec.config()
    log = config.data_dir / f"serving-{'-'.join(spec.bind)}.log"
    env = dict(os.environ, **{SPEC_ENV: spec.to_env()})
    root = Path(__file__).resolve().parent.parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with log.open("ab") as out:
        # Dies with `up` even on kill -9 (its own session keeps it from a terminal's Ctrl-C).
        process = subprocess.Popen(dying_with_parent([sys.executable, "-m",
                                                      "lab.serving.gunicorn_app"]),
                                   env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return ServingPool(spec, process, log)


def wait_ready(pool: ServingPool, timeout: float) -> None:
    spec, process, log = pool.spec, pool.process, pool.log
    context = ssl.create_default_context(cafile=str(spec.config().ca_cert_path))
    context.check_hostname = False
    waiting = set(spec.bind)
    deadline = time.monotonic() + timeout
    while waiting:
        if process.poll() is not None or time.monotonic() > deadline:
            pool.stop()
            tail = log.read_text(errors="replace")[-1500:]
            raise ServingStartError(f"gunicorn did not start (see {log}):\n{tail}")
        for name in sorted(waiting):
            url = f"https://{spec.bind_host}:{spec.bind[name]}{READY_PATHS[name]}"
            if _answers(url, context):
                waiting.discard(name)
        time.sleep(0.1)
