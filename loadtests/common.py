"""What every workload shares: the material `fapi-lab load` prepared, proofs and assertions.

`fapi-lab load` obtains real tokens from the running lab (lab/load/prepare.py),
writes them to a JSON file and names it in $FAPI_LAB_LOAD_MATERIAL. Proofs and
client assertions are timed by the lab clock (wall time + the lab's offset).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from locust import events
from locust.clients import HttpSession

from lab.tpp import assertion
from lab.tpp import dpop_signer as tpp_dpop

MATERIAL_ENV = "FAPI_LAB_LOAD_MATERIAL"
# More figures for <csv prefix>_summary.json, by name (the flows add their linkings).
SUMMARY_EXTRAS: dict[str, Callable[[], Any]] = {}


def load_material() -> dict[str, Any]:
    path = os.environ.get(MATERIAL_ENV)
    if not path:
        raise SystemExit(f"${MATERIAL_ENV} is not set: run these workloads with `fapi-lab load`")
    with open(path) as handle:
        data: dict[str, Any] = json.load(handle)
    return data


MATERIAL = load_material()


def lab_now() -> int:
    return int(time.time() + float(MATERIAL.get("clock_offset") or 0.0))


def dpop_signer(private_jwk: dict[str, Any]) -> tpp_dpop.Signer:
    """The TPP's RFC 9449 proof maker, timed by the lab clock as read from the material."""
    return tpp_dpop.Signer(private_jwk, now=lab_now)


class ClientAssertions:
    """private_key_jwt (RFC 7523): a fresh assertion, with a fresh jti, for every request."""

    def __init__(self, client_id: str, private_jwk: dict[str, Any], alg: str,
                 audience: str) -> None:
        self.client_id, self.audience = client_id, audience
        self.signer = assertion.Signer(client_id, private_jwk, alg, now=lab_now)

    def form(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_assertion_type": assertion.ASSERTION_TYPE,
                "client_assertion": self.signer.make(self.audience)}


def trust_lab_ca(client: Any) -> None:
    """Locust's HttpSession is a requests.Session: trust only the lab CA, ignore env proxies."""
    client.verify = MATERIAL["ca_cert"]
    client.trust_env = False


class StepSession(HttpSession):
    """Locust's session, naming each unnamed request by its path without the query, so each
    page of a flow (/authorize?request_uri=…, /consent?pending=…) is one row of statistics;
    `tag` follows the path (" (rar)") where workloads of one file must stay apart."""

    def __init__(self, *args: Any, tag: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tag = tag

    def request(self, method: Any, url: Any, name: str | None = None,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> Any:
        return super().request(method, url,
                               name or (urlsplit(str(url)).path or "/") + self.tag, *args,
                               **kwargs)


class DPoPSender:
    """Requests with a DPoP proof (RFC 9449 §4), and the server-nonce dance of §8 and §9.

    With dpop_nonce on, the first request of each nonce period is refused with
    use_dpop_nonce and a DPoP-Nonce header; that refusal is intended, so it is
    counted under its own name "<name> (use_dpop_nonce)", not as a failure, and the
    request is sent once more with the nonce. Nonces are kept per origin.
    """

    def __init__(self, client: HttpSession, signer: tpp_dpop.Signer) -> None:
        self.client, self.signer = client, signer
        self.nonces: dict[str, str] = {}

    def send(self, method: str, url: str, name: str, *, access_token: str | None = None,
             data: Callable[[], dict[str, str]] | None = None, json: Any = None,
             headers: dict[str, str] | None = None,
             expect: Callable[[Any], None] | None = None,
             rename: Callable[[Any], str] | None = None) -> Any:
        """`url` absolute; `data` makes the form afresh per attempt (assertions are single use);
        `rename(response)` may name the response's row after the fact. Returns the response,
        already judged by `expect` (default: anything but 2xx fails)."""
        where = tpp_dpop.origin(url)
        for attempt in range(2):
            proof = self.signer.proof(method, url, access_token=access_token,
                                      nonce=self.nonces.get(where))
            with self.client.request(method, url, name=name, catch_response=True,
                                     data=data() if data else None, json=json,
                                     headers={**(headers or {}), "DPoP": proof}) as response:
                if response.headers.get(tpp_dpop.NONCE_HEADER):
                    self.nonces[where] = response.headers[tpp_dpop.NONCE_HEADER]
                if attempt == 0 and tpp_dpop.asks_for_nonce(response):
                    response.request_meta["name"] = f"{name} (use_dpop_nonce)"
                    response.success()
                    continue
                (expect or expect_ok)(response)
                if rename is not None:
                    response.request_meta["name"] = rename(response)
                return response
        raise AssertionError("unreachable")


def expect_ok(response: Any) -> None:
    """Inside catch_response: anything but 2xx is a failure, with the OAuth error shown."""
    if response.status_code >= 300 or response.status_code == 0:
        response.failure(f"HTTP {response.status_code}: {(response.text or '')[:160]}")
    else:
        response.success()


class Completions:
    """Whole flows (a linking, a payment) from start to last answer, in ms: the unit a cost
    is compared in when flows differ in how many requests they send."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self.first_start: float | None = None
        self.last_done: float | None = None

    def start(self) -> float:
        began = time.perf_counter()
        if self.first_start is None:
            self.first_start = began
        return began

    def done(self, began: float) -> None:
        self.last_done = time.perf_counter()
        self.durations.append((self.last_done - began) * 1000)

    def summary(self) -> dict[str, Any]:
        """Completed, per second (first start to last completion, as Locust's req/s), and
        p50/p95/p99 in ms."""
        done = sorted(self.durations)
        elapsed = (self.last_done or 0.0) - (self.first_start or 0.0) if done else 0.0
        cuts = statistics.quantiles(done, n=100, method="inclusive") if len(done) > 1 \
            else done * 99
        return {"completed": len(done), "per_s": len(done) / elapsed if elapsed > 0 else 0.0,
                **({"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]} if done else {})}


def _figures(entry: Any) -> dict[str, Any]:
    return {"type": entry.method or "", "name": entry.name, "requests": entry.num_requests,
            "failures": entry.num_failures, "rps": entry.total_rps,
            **{f"p{p}": entry.get_response_time_percentile(p / 100) for p in (50, 95, 99)}}


@events.quitting.add_listener
def write_summary(environment: Any, **_: Any) -> None:
    """<csv prefix>_summary.json from Locust's final statistics, which its CSV files (written
    once a second while it runs) may miss the last second of."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    stats, runner = environment.stats, environment.runner
    summary = {"total": _figures(stats.total),
               "steps": [_figures(e) for e in stats.entries.values() if e.num_requests],
               # A task that raised stopped part-way: Locust keeps these apart from failures.
               "exceptions": sum(row["count"] for row in runner.exceptions.values()),
               **{name: extra() for name, extra in SUMMARY_EXTRAS.items()}}
    with open(f"{prefix}_summary.json", "w") as handle:
        json.dump(summary, handle)
