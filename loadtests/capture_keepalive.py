"""What a request costs through the capture proxy, against the same request to the app itself.

    .venv/bin/python -m loadtests.capture_keepalive [--requests 200] [--workers N]

Starts a private lab with capture on (in-process apps, as `fapi-lab up` and every attack
run; with --workers, the AS and the bank under gunicorn), then times N GETs of the bank's
cheapest page on one kept-alive client session: through mitmproxy (the public port), then
straight to the app's internal port. It prints the milliseconds per request of each and how
many upstream connections mitmproxy opened for them. A script that prints figures
(docs/performance.md), not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import requests

from lab.serving.private import private_lab


def per_request_ms(http: requests.Session, url: str, count: int) -> float:
    http.get(url, allow_redirects=False).raise_for_status()   # connect before timing
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = http.get(url, allow_redirects=False)
        times.append(time.perf_counter() - start)
        assert response.status_code < 400, response.status_code
    return statistics.median(times) * 1000


class UpstreamConnections:
    """A mitmproxy addon that counts the distinct upstream connections of the flows it sees."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def response(self, flow: Any) -> None:
        self.seen.add(flow.server_conn.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    with private_lab(profile="fapi2-security", capture=True, write_state=False,
                     workers=args.workers) as lab:
        capture = lab.capture
        assert capture is not None and capture._loop is not None
        counter = UpstreamConnections()

        async def add() -> None:
            capture._master.addons.add(counter)   # type: ignore[attr-defined]

        asyncio.run_coroutine_threadsafe(add(), capture._loop).result(10)
        http = requests.Session()
        http.trust_env = False
        http.verify = str(lab.config.ca_cert_path)
        public = lab.config.bank_url + "/"
        internal = f"https://127.0.0.1:{capture.upstream['bank']}/"
        through = per_request_ms(http, public, args.requests)
        upstream_connections = len(counter.seen)
        direct = per_request_ms(http, internal, args.requests)
        served = f"gunicorn, {args.workers} workers" if args.workers else "in-process Werkzeug"
        print(f"{args.requests + 1} GETs of the bank's / ({served}) on one kept-alive client "
              f"session")
        print(f"  through mitmproxy: {through:.2f} ms per request (median), "
              f"{upstream_connections} upstream connections opened by mitmproxy")
        print(f"  to the app itself: {direct:.2f} ms per request (median)")


if __name__ == "__main__":
    main()
