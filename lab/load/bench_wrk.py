"""The benchmark's load generators: Debian's `wrk` (and `ab` where wrk cannot), pinned with taskset.

wrk drives the most requests per core of the generators at hand (issue 7 measured one
Locust process at about 55% of it), so the server, not the generator, sets the rate.
It cannot present a TLS client certificate, so the mTLS-bound calls and their bearer
baseline run under ApacheBench (`ab -k -E`), both with the same generator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
LUA = ROOT / "loadtests" / "benchmark" / "bench.lua"
INSTALL_HINT = "apt-get install -y wrk apache2-utils"   # Debian: wrk, and ab for mTLS
MARGIN_S = 30   # how long past its duration a generator may take before it is killed


class BenchError(RuntimeError):
    """The benchmark cannot run (a tool is missing) or a run produced no figures."""


@dataclass
class Measurement:
    """What one generator run saw: responses, refusals, latency, over the measured seconds."""

    generator: str
    requests: int
    seconds: float
    failed: int                    # non-2xx/3xx answers plus socket errors and timeouts
    latency_ms: dict[str, float] = field(default_factory=dict)
    material_ran_out: bool = False
    errors: dict[str, int] = field(default_factory=dict)
    # CPU seconds the server's processes used meanwhile (user + system), when known: a cost
    # per request that other load on the machine barely moves, unlike the rate.
    server_cpu_s: float | None = None
    # Of server_cpu_s, what the capture (mitmproxy, in the lab's process) used: capture rows.
    capture_cpu_s: float | None = None

    @property
    def ok(self) -> int:
        return max(self.requests - self.failed, 0)

    @property
    def rate(self) -> float:
        """Answered-as-intended requests per second: refusals do not count."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us(self) -> float | None:
        """Server CPU time per request, in microseconds."""
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    @property
    def server_busy(self) -> float | None:
        """Server CPU seconds per second of load: about its CPU count when the server, not the
        generator or a neighbour on its CPUs, set the rate."""
        return self.server_cpu_s / self.seconds if self.server_cpu_s and self.seconds else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "rate": round(self.rate, 1),
                "cpu_us_per_request": None if self.cpu_us is None else round(self.cpu_us, 1),
                "server_busy": None if self.server_busy is None else round(self.server_busy, 3)}


def require_tools() -> None:
    """Fail early, saying how to install what is missing (Debian packages)."""
    missing = [tool for tool in ("wrk", "ab", "taskset") if shutil.which(tool) is None]
    if missing:
        raise BenchError(f"the benchmark needs {', '.join(missing)} on PATH: {INSTALL_HINT} "
                         "(taskset is in util-linux)")


def _pinned(cpus: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def wrk(url: str, *, path: str, kind: str = "get", duration: int, connections: int, threads: int,
        cpus: str, method: str = "GET", auth: str = "", body: str = "",
        material: Path | None = None) -> Measurement:
    """One wrk run of loadtests/benchmark/bench.lua against `url` (origin), `path` on it."""
    with tempfile.TemporaryDirectory(prefix="fapi-lab-bench-") as tmp:
        result = Path(tmp) / "result.json"
        env = {"BENCH_KIND": kind, "BENCH_METHOD": method, "BENCH_PATH": path,
               "BENCH_AUTH": auth, "BENCH_BODY": body, "BENCH_THREADS": str(threads),
               "BENCH_MATERIAL": str(material or ""), "BENCH_RESULT": str(result)}
        command = _pinned(cpus, ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                                 "-s", str(LUA), url])
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=duration + MARGIN_S)
        if not result.exists():
            raise BenchError(f"wrk produced no result (exit {done.returncode}): "
                             f"{(done.stderr or done.stdout)[-600:]}")
        data = json.loads(result.read_text())
    errors = {k: int(v) for k, v in data["errors"].items()}
    latency = {k: round(v / 1000, 2) for k, v in data["latency_us"].items()}
    return Measurement("wrk", int(data["requests"]), data["duration_us"] / 1e6,
                       failed=sum(errors.values()), latency_ms=latency, errors=errors,
                       material_ran_out=data["material_wrapped"] > 0)


def ab(url: str, *, duration: int, connections: int, cpus: str, most: int, auth: str = "",
       cert_and_key: Path | None = None) -> Measurement:
    """One ApacheBench run (keep-alive) of GET `url`; `cert_and_key` is one PEM file, the
    certificate first, for a TLS client certificate. `most` bounds the request count (ab
    allocates per request)."""
    command = ["ab", "-k", "-q", "-c", str(connections), "-t", str(duration),
               "-n", str(max(most, connections))]
    if auth:
        command += ["-H", f"Authorization: {auth}"]
    if cert_and_key is not None:
        command += ["-E", str(cert_and_key)]
    done = subprocess.run(_pinned(cpus, [*command, url]), capture_output=True, text=True,
                          timeout=duration + MARGIN_S)
    return parse_ab(done.stdout, done.stderr)


def _field(text: str, name: str) -> str | None:
    found = re.search(rf"^{re.escape(name)}:\s+([0-9.]+)", text, re.MULTILINE)
    return found.group(1) if found else None


def parse_ab(out: str, err: str = "") -> Measurement:
    """ab's report: complete, failed and non-2xx requests, time taken, percentiles (ms)."""
    complete, taken = _field(out, "Complete requests"), _field(out, "Time taken for tests")
    if complete is None or taken is None:
        raise BenchError(f"ab produced no report: {(err or out)[-600:]}")
    # ab counts a length that differs from the first response as "failed" (Length); the
    # benchmark's responses have one length each, so these are real failures too.
    failed = int(_field(out, "Failed requests") or 0)
    non_2xx = int(_field(out, "Non-2xx responses") or 0)
    percentiles = dict(re.findall(r"^\s+(50|90|99|100)%\s+(\d+)", out, re.MULTILINE))
    latency = {name: float(percentiles[p]) for name, p in
               (("p50", "50"), ("p90", "90"), ("p99", "99"), ("max", "100")) if p in percentiles}
    return Measurement("ab", int(complete), float(taken), failed=failed + non_2xx,
                       latency_ms=latency, errors={"failed": failed, "non_2xx": non_2xx})


def version(tool: str) -> str:
    """The generator's own version line, for the report."""
    command = {"wrk": ["wrk", "-v"], "ab": ["ab", "-V"]}[tool]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "unknown"
