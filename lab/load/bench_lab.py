"""The lab the benchmark measures: its own, production-like, pinned to the server's CPUs.

A private lab in a temporary data directory on free loopback ports, started by the
factory `fapi-lab up --workers N --no-capture` uses (lab.serving.in_process.start): the AS and the
bank each under gunicorn (gthread, keep-alive, TLS), no mitmproxy. A user's own lab is
never touched. Its gunicorn processes are pinned to the server CPUs (taskset's
sched_setaffinity), so the load generator on the other CPUs does not steal their time.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import psutil

from lab import clock, context
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from lab.store import Store

BASE_PROFILE = "fapi2-security"
# On top of the profile in every measurement: a DPoP proof's jti is written once (RFC 9449
# §11.1, the atomic write the issue asks to measure); no server nonce, which a
# pre-generated proof could not carry.
BASE_CONTROLS = {"dpop_jti_replay": True, "dpop_nonce": False}
# The sender constraint each measurement needs, the only thing that differs between them.
BINDINGS: dict[str, dict[str, bool]] = {
    "bearer": {"dpop_bound_tokens": False, "mtls_bound_tokens": False},
    "dpop": {"dpop_bound_tokens": True, "mtls_bound_tokens": False},
    "mtls": {"dpop_bound_tokens": False, "mtls_bound_tokens": True},
}



def pin(pid: int, cpus: set[int]) -> list[int]:
    """Pin a process and all its descendants (gunicorn's master and workers); their pids.

    Affinity belongs to each thread, and a gthread worker's threads may exist already: every
    thread is pinned; threads started later inherit it from the thread that starts them."""
    process = psutil.Process(pid)
    pinned = [process, *process.children(recursive=True)]
    for each in pinned:
        for thread in each.threads():
            os.sched_setaffinity(thread.id, cpus)
    return [p.pid for p in pinned]


class PrivateLab:
    """A lab of the benchmark's own; `stop()` ends its servers and removes its data."""

    def __init__(self, *, workers: int, threads: int, server_cpus: set[int],
                 capture: bool = False) -> None:
        self._stack = ExitStack()
        # running.json in its own temporary directory: the start-up rows' `fapi-lab status`
        # asks this lab. With `capture`, mitmproxy takes the public ports in this process,
        # as `fapi-lab up` runs it.
        self.lab: RunningLab = self._stack.enter_context(private_lab(
            profile=BASE_PROFILE, workers=workers, threads=threads, write_state=True,
            capture=capture, prefix="fapi-lab-bench-"))
        self.config = self.lab.config
        self.server_pids = [p for pool in self.lab.pools
                            for p in pin(pool.process.pid, server_cpus)]
        self.workers = workers
        self.threads = threads

    @property
    def store(self) -> Store:
        return self.lab.store

    def use(self, binding: str) -> None:
        """Switch the controls (through the registry, which every worker reads) for one
        measurement: the profile, the base controls, and this binding."""
        registry = Registry(self.store)
        registry.apply_profile(BASE_PROFILE)
        registry.set({**BASE_CONTROLS, **BINDINGS[binding]})

    def now(self) -> int:
        """Lab time, which proofs and assertions must carry."""
        with context.bound(self.store, "benchmark"):
            return clock.now_int()

    def worker_pids(self) -> list[int]:
        """gunicorn's workers (not masters): where a profiler looks."""
        masters = {pool.process.pid for pool in self.lab.pools}
        return [p for p in self.server_pids if p not in masters and psutil.pid_exists(p)]

    def stop(self) -> None:
        self._stack.close()


def available_cpus() -> set[int]:
    return set(os.sched_getaffinity(0))
