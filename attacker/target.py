"""The lab an attack runs against: the one `fapi-lab up` is running, or one started for it.

Attacks need the capture (mitmproxy) on: they read what leaked from it. Against a
running lab the attacker works on the lab's own store (SQLite on disk), so the
events and captures it causes are the ones the dashboard and `fapi-lab events` show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from lab.bootstrap import open_store
from lab.cli.client import read_running
from lab.config import LabConfig
from lab.serving.in_process import RunningLab, start
from lab.store.base import Store


class TargetError(Exception):
    """The lab cannot be attacked as it is (say, capture is off)."""


@dataclass
class Target:
    config: LabConfig
    store: Store
    started_here: bool


def _port(url: str) -> int:
    port = urlsplit(url).port
    if port is None:
        raise TargetError(f"cannot read a port from {url}")
    return port


@contextmanager
def open_target(config: LabConfig, *, profile: str | None = None) -> Iterator[Target]:
    """Attach to the running lab of `config.data_dir`, else start one (capture on) for the run."""
    state = read_running(config)
    if state is not None:
        if not state.get("capture"):
            raise TargetError("the running lab has capture off (`fapi-lab up --no-capture`); "
                              "attacks read what leaked through mitmproxy — restart it with "
                              "capture on")
        running = LabConfig(data_dir=config.data_dir, as_port=_port(state["as"]),
                            bank_port=_port(state["bank"]), tpp_port=_port(state["tpp"]))
        store = open_store(running)
        try:
            yield Target(running, store, started_here=False)
        finally:
            store.close()   # this thread's connection; the running lab keeps its own
        return
    lab: RunningLab = start(config, profile=profile, write_state=False, capture=True)
    try:
        yield Target(config, lab.store, started_here=True)
    finally:
        lab.stop()
