"""What a request costs the capture proxy in CPU: on a kept-alive connection, and on a new one.

    .venv/bin/python -m loadtests.capture_cpu [--requests 400] [--dumpmaster]

Starts a private lab with capture on, then sends GETs of the bank's cheapest page through
mitmproxy: on one kept-alive client session, then each on a new session (a new client
connection, so a new upstream connection too). It prints the CPU milliseconds per request of
the capture thread alone (mitmproxy and the lab's addon, read with `time.thread_time()` on
the proxy's event loop) and of the whole process (client, proxy and app). `--dumpmaster`
runs mitmdump's DumpMaster with its ~35 addons instead of the capture's lean master, for a
before/after on the same machine. A script that prints figures (docs/performance.md), not a
test; CPU, not wall time, so a busy machine changes it little.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

import requests

from lab.capture import proxy
from lab.capture.proxy import CaptureProxy
from lab.config import LOW_PASSWORD_ITERATIONS
from lab.serving.private import private_lab


def capture_cpu(capture: CaptureProxy) -> float:
    """The capture thread's CPU seconds so far, read on its own event loop."""
    async def now() -> float:
        return time.thread_time()

    assert capture._loop is not None
    return asyncio.run_coroutine_threadsafe(now(), capture._loop).result(10)


def per_request_ms(capture: CaptureProxy, send: Callable[[], None],
                   count: int) -> tuple[float, float]:
    """(capture thread, whole process) CPU milliseconds per request."""
    send()   # connect (and warm up) before measuring
    process, proxy_cpu = time.process_time(), capture_cpu(capture)
    for _ in range(count):
        send()
    return ((capture_cpu(capture) - proxy_cpu) / count * 1000,
            (time.process_time() - process) / count * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--dumpmaster", action="store_true",
                        help="mitmdump's DumpMaster (every default addon), as before")
    args = parser.parse_args()
    if args.dumpmaster:
        from mitmproxy.tools.dump import DumpMaster

        def dump_master(opts: Any) -> Any:
            return DumpMaster(opts, with_termlog=False, with_dumper=False)

        proxy.lean_master = dump_master  # type: ignore[assignment]
    with private_lab(profile="fapi2-security", capture=True, write_state=False,
                     password_iterations=LOW_PASSWORD_ITERATIONS) as lab:
        assert lab.capture is not None
        url, ca = lab.config.bank_url + "/", str(lab.config.ca_cert_path)

        def session() -> requests.Session:
            http = requests.Session()
            http.trust_env, http.verify = False, ca
            return http

        kept = session()

        def on_kept() -> None:
            assert kept.get(url, allow_redirects=False).status_code < 400

        def on_new() -> None:
            with session() as http:
                assert http.get(url, allow_redirects=False).status_code < 400

        master = "DumpMaster" if args.dumpmaster else "lean master"
        print(f"{args.requests} GETs of the bank's / through the capture ({master}), CPU ms "
              "per request")
        for name, send in (("kept-alive connection", on_kept), ("new connection", on_new)):
            proxy_ms, process_ms = per_request_ms(lab.capture, send, args.requests)
            print(f"  {name:22} capture thread {proxy_ms:5.2f}  whole process {process_ms:5.2f}")


if __name__ == "__main__":
    main()
