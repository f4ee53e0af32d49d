"""What the benchmark knows of the machine: CPU sets and pinning, CPU time, versions, load.

Recorded with every run, so figures from a busy or different machine say so.
"""

from __future__ import annotations

import os
import platform
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil

from . import bench_oidc_provider, bench_wrk


def cpu_set(text: str) -> set[int]:
    """taskset's list syntax ("0", "0,2", "1-3") as a set of CPU numbers."""
    cpus: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


@contextmanager
def on_cpus(cpus: set[int]) -> Iterator[None]:
    """Run this thread (and the processes it starts meanwhile) on `cpus`."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (all their threads)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def machine(before: str) -> dict[str, Any]:
    """The CPU, the system, the tools' versions and the load average around the run."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = shutil.which("node")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                  timeout=10, check=False).stdout.strip() if node else "missing"
    tools = {"wrk": bench_wrk.version("wrk"), "ab": bench_wrk.version("ab"),
             "gunicorn": version("gunicorn"), "flask": version("flask"),
             "authlib": version("authlib"), "pyjwt": version("pyjwt"),
             "python": platform.python_version(), "openssl": ssl.OPENSSL_VERSION,
             "node": node_version,
             "oidc-provider": bench_oidc_provider.package_version()
             if (bench_oidc_provider.NODE_MODULES / "oidc-provider").exists() else "missing"}
    return {"cpu": cpu, "cpus": os.cpu_count(), "system": platform.platform(),
            "cryptography": version("cryptography"), "load_before": before,
            "load_after": load_average(), "tools": tools}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
