"""Shared fixtures: a real lab on free ports over TLS, switches that restore, event lookups.

    def test_x(lab, controls, http, fired):
        controls.set(pkce_required=True)
        r = http.post(lab.config.as_url + "/token", data=...)
        assert fired(r) == ["pkce_required"]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lab import clock
from lab.config import LOW_PASSWORD_ITERATIONS
from lab.controls import events as lab_events
from lab.controls.registry import ENABLED_KEY, PARAMS_KEY, PROFILE_KEY, Registry
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from lab.web.request_id import HEADER


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """One real lab for the session, built by the same factories `fapi-lab up` uses."""
    with private_lab(profile="fapi2-security", write_state=False,
                     password_iterations=LOW_PASSWORD_ITERATIONS,
                     data_dir=tmp_path_factory.mktemp("lab-data")) as running:
        yield running


class Switches:
    """Set controls for one test; everything is put back afterwards."""

    def __init__(self, lab: RunningLab) -> None:
        self.registry = Registry(lab.store)
        self.store = lab.store
        self._saved = {k: lab.store.get_setting(k) for k in (ENABLED_KEY, PROFILE_KEY,
                                                             PARAMS_KEY)}

    def profile(self, name: str) -> None:
        self.registry.apply_profile(name)

    def set(self, **changes: bool) -> None:
        self.registry.set(changes)

    def only(self, *on: str) -> None:
        """Legacy baseline plus exactly these controls (and what they require)."""
        self.registry.apply_profile("legacy")
        self.registry.set(dict.fromkeys(on, True))

    def param(self, control_id: str, name: str, value: Any) -> None:
        self.registry.set_param(control_id, name, value)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is not None:
                self.store.set_setting(key, value)
        clock.reset(self.store)


@pytest.fixture
def controls(lab: RunningLab) -> Iterator[Switches]:
    switches = Switches(lab)
    yield switches
    switches.restore()


@pytest.fixture
def http(lab: RunningLab) -> Iterator[requests.Session]:
    """A plain HTTPS client that trusts the lab CA (real TLS, never verify=False)."""
    session = requests.Session()
    # trust_env off: REQUESTS_CA_BUNDLE would override `verify` (psf/requests#3829), and proxy
    # variables must never route lab traffic off loopback.
    session.trust_env = False
    session.verify = str(lab.config.ca_cert_path)
    yield session
    session.close()


@pytest.fixture
def fired(lab: RunningLab):  # type: ignore[no-untyped-def]
    """fired(response) → the control ids whose events the response's request caused."""

    def _fired(response: requests.Response, kind: str = "fired") -> list[str]:
        request_id = response.headers.get(HEADER)
        assert request_id, "response carries no X-Lab-Request-Id"
        return [e.control for e in lab_events.list_events(lab.store, request_id=request_id)
                if e.kind == kind]

    return _fired


STAND_IN_PENDING = "future-attack"


@pytest.fixture
def stand_in_pending(monkeypatch: pytest.MonkeyPatch) -> str:
    """A catalog attack that is not built yet, for the paths that treat pending attacks (every
    real one is built now): its id, listed by attacker.lookup while the test runs."""
    from attacker import lookup
    from attacker.attacks import Pending

    real = lookup.entries()
    waiting = Pending(id=STAND_IN_PENDING, title="An attack still to come", attacker="A1",
                      blocked_by=("par_required",), reason="needs a mechanism not built yet")
    monkeypatch.setattr(lookup, "entries", lambda: {**real, waiting.id: waiting})
    return waiting.id
