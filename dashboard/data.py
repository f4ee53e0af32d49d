"""The dashboard's way to the running lab: its admin API (switches, events, captures, clock).

The dashboard is a separate process, like any operator's console: it changes the lab only
through the same admin API the CLI uses, so a switch flipped here is at once what the AS,
the bank and FinLens enforce. Attacks run from the dashboard process on the lab's own store
(see `dashboard.attack_run`), as `fapi-lab attack` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from lab.cli.client import AdminClient, CliError, read_running
from lab.config import LabConfig, default_data_dir

TIMEOUT = 10.0


class LabUnavailableError(Exception):
    """No lab answers for this data directory; the page says how to start one."""


@dataclass
class Lab:
    """One running lab, seen through its admin API."""

    config: LabConfig
    admin: AdminClient

    def _get(self, path: str, **params: Any) -> Any:
        try:
            return self.admin.get(path, **params)
        except CliError as error:
            raise LabUnavailableError(str(error)) from None

    def _post(self, path: str, body: Any) -> Any:
        try:
            return self.admin.post(path, body)
        except CliError as error:
            raise LabUnavailableError(str(error)) from None

    def status(self) -> dict[str, Any]:
        return dict(self._get("/status"))

    def controls(self) -> list[dict[str, Any]]:
        return list(self._get("/controls")["controls"])

    def control(self, control_id: str) -> dict[str, Any]:
        return dict(self._get(f"/controls/{control_id}"))

    def profiles(self) -> dict[str, Any]:
        return dict(self._get("/profiles"))

    def set_controls(self, changes: dict[str, bool]) -> dict[str, Any]:
        """Switch controls at once (the AS applies `requires` and says so in `notes`)."""
        return dict(self._post("/controls", {"changes": dict(changes)}))

    def apply_profile(self, name: str) -> dict[str, Any]:
        return dict(self._post("/profile", {"name": name}))

    def clock(self) -> dict[str, Any]:
        """The lab clock (offset, now): tokens' exp and iat are judged by it."""
        return dict(self._get("/clock"))

    def events(self, since: int = 0, limit: int = 200) -> dict[str, Any]:
        return dict(self._get("/events", since=since, limit=limit))

    def captures(self, since: int = 0, limit: int = 200, leg: str | None = None
                 ) -> list[dict[str, Any]]:
        return list(self._get("/captures", since=since, limit=limit, leg=leg)["captures"])

    def capture(self, capture_id: int) -> dict[str, Any]:
        return dict(self._get(f"/captures/{capture_id}"))

    def last_capture_id(self) -> int:
        """The newest capture id; exchanges after it belong to what happens next."""
        return int(self._get("/captures", limit=1)["newest_id"])

    def workshop(self) -> dict[str, Any]:
        """Workshop progress kept in the lab: {"exercises": {n: record}, "order": [n, ...]}."""
        return dict(self._get("/workshop"))

    def record_workshop(self, number: int, step: str, result: dict[str, Any]) -> dict[str, Any]:
        """Record that exercise `number` did `step` (setup, ran, checked), with its result."""
        return dict(self._post(f"/workshop/{number}", {"step": step, "result": result}))

    def audit(self, limit: int = 50) -> dict[str, Any]:
        """The audit trail's newest records and the verifier's report (GET /admin/audit)."""
        return dict(self._get("/audit", limit=limit))

    def metadata(self) -> dict[str, Any]:
        """The AS's discovery document (RFC 8414), as a client reads it."""
        url = self.config.as_url + "/.well-known/oauth-authorization-server"
        session = requests.Session()
        session.trust_env = False  # $REQUESTS_CA_BUNDLE would override the lab CA
        try:
            response = session.get(url, verify=str(self.config.ca_cert_path), timeout=TIMEOUT)
            return dict(response.json())
        except (requests.RequestException, ValueError) as error:
            raise LabUnavailableError(f"the AS metadata at {url} did not load: "
                                      f"{type(error).__name__}") from None
        finally:
            session.close()


def lab_config(data_dir: Path | None = None) -> LabConfig:
    """The running lab's configuration (ports from running.json), else the defaults."""
    config = LabConfig(data_dir=default_data_dir() if data_dir is None else data_dir)
    state = read_running(config)
    if state is None:
        return config
    def port(key: str, default: int) -> int:
        return urlsplit(str(state.get(key, ""))).port or default

    return LabConfig(data_dir=config.data_dir, as_port=port("as", config.as_port),
                     bank_port=port("bank", config.bank_port),
                     tpp_port=port("tpp", config.tpp_port))


def connect(data_dir: Path | None = None) -> Lab:
    """The lab running for `data_dir` (default: $FAPI_LAB_HOME, else ~/.fapi-lab)."""
    config = lab_config(data_dir)
    try:
        return Lab(config, AdminClient.connect(config))
    except CliError as error:
        raise LabUnavailableError(str(error)) from None


def metadata_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Discovery fields that a switch added, removed or changed (what a client now reads)."""
    rows = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            rows.append({"field": key, "before": before.get(key, "(absent)"),
                         "after": after.get(key, "(absent)")})
    return rows
