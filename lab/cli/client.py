"""How the CLI finds the running lab (running.json + a live pid) and talks to its admin API.

Every command that changes a running lab goes through the admin API, the same
door the dashboard uses, so the CLI holds no logic of its own about controls.

Light on purpose (lab.cli.commands imports it for every command): the admin calls use the
standard library's http.client, not requests, whose import alone cost `fapi-lab status` about
0.3 s of CPU before it sent one request to a server on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from lab.config import LabConfig

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3


class CliError(Exception):
    """A readable one-line failure with its exit code; main() prints it, never a traceback."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def load_state(config: LabConfig) -> dict[str, Any] | None:
    """running.json as written by `fapi-lab up`, live or stale; None when absent or unreadable."""
    try:
        state = json.loads(config.state_file.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def state_pid(state: dict[str, Any]) -> int:
    try:
        return int(state.get("pid") or 0)
    except (TypeError, ValueError):
        return 0


def read_running(config: LabConfig) -> dict[str, Any] | None:
    """running.json when it names a live process; None when there is none or it is stale."""
    state = load_state(config)
    return state if state is not None and pid_alive(state_pid(state)) else None


def not_running(config: LabConfig) -> CliError:
    state = load_state(config)
    why = (f": running.json names pid {state_pid(state)}, which has exited"
           if state is not None else "")
    return CliError(f"no lab is running for {config.data_dir}{why} "
                    f"(start one with `fapi-lab up`)", EXIT_NOT_RUNNING)


@dataclass
class AdminClient:
    """Bearer-authenticated HTTPS calls to the running lab's /admin, verified by the lab CA."""

    base: str
    token: str
    ca_cert: str
    timeout: float = 10.0

    @classmethod
    def connect(cls, config: LabConfig) -> AdminClient:
        state = read_running(config)
        if state is None:
            raise not_running(config)
        try:
            token = config.admin_token_path.read_text().strip()
        except OSError:
            raise CliError(f"cannot read the admin token at {config.admin_token_path}") from None
        base = state.get("admin_url") or f"{state['as']}/admin"
        return cls(base, token, str(state.get("ca_cert") or config.ca_cert_path))

    def call(self, method: str, path: str, *, json_body: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        url = urlsplit(self.base + path)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        if params:
            target += ("&" if url.query else "?") + urlencode(params, doseq=True)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            context = ssl.create_default_context(cafile=self.ca_cert)
            connection = http.client.HTTPSConnection(url.hostname or "", url.port or 443,
                                                     timeout=self.timeout, context=context)
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                status, raw = response.status, response.read()
            finally:
                connection.close()
        except (ssl.SSLError, ssl.CertificateError, FileNotFoundError) as error:
            raise CliError(f"TLS to {self.base} failed ({type(error).__name__}); "
                           f"is {self.ca_cert} the lab's CA?") from None
        except (OSError, http.client.HTTPException):
            raise CliError(f"the lab is not answering at {self.base}", EXIT_NOT_RUNNING) from None
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if status >= 400:
            detail = (payload or {}).get("error_description") if isinstance(payload, dict) \
                else None
            raise CliError(detail or f"{method} {path} answered HTTP {status}",
                           EXIT_USAGE if status in (400, 404) else EXIT_ERROR)
        return payload

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, json_body=body)


def try_connect(config: LabConfig) -> AdminClient | None:
    """The admin client when a lab runs; None otherwise (for commands that also work offline)."""
    try:
        return AdminClient.connect(config)
    except CliError:
        return None
