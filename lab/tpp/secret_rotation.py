"""FinLens rotates its own client secret at HonestBank through RFC 7592, before it expires.

Only where FinLens authenticates with the secret (client_secret_basic/post; the FAPI 2.0
profiles use private_key_jwt or mTLS and never touch it). The AS's registration answered
with `client_secret_expires_at` (RFC 7591 §3.2.1) and a registration access token
(RFC 7592 §3), kept in secrets/tpp-client.json. When the secret is within ROTATE_AHEAD of
its expiry (lab clock; or past it: the PUT is authenticated by the registration access
token, not by the secret), FinLens reads its registration (RFC 7592 §2.1, GET) and sends
it back (§2.2, PUT: "the client MUST include all fields it wants to keep"); the answer
carries the new secret and expiry. `rotate()` also runs on demand (`fapi-lab keys
rotate-secret`, `POST /admin/tpp/rotate-secret`).

FinLens rotates whether or not client_secret_rotation is on: it cannot tell, and a
well-kept client follows the expiry it was given. The AS keeps a replaced secret valid
until its own expiry (lab/authserver/clients.py rotate_secret), which it enforces only when
the control is on; so a secret leaked before a rotation still works with the control off
(client-impersonation-leaked-secret stays honest) and stops at its expiry with it on.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import requests

from lab import clock
from lab.config import LabConfig

CREDENTIALS_FILE = ("secrets", "tpp-client.json")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ROTATE_AHEAD = 3600      # seconds (lab clock) before the expiry when FinLens rotates
TIMEOUT = 10
# RFC 7591 §2 metadata FinLens sends back on its PUT (§2.2); the rest is the server's.
SERVER_FIELDS = ("client_secret", "client_secret_expires_at", "client_id_issued_at",
                 "registration_access_token", "registration_client_uri")


class RotationError(Exception):
    """The AS refused or could not be asked; FinLens goes on with the secret it has."""


def _path(config: LabConfig) -> Path:
    return config.data_dir.joinpath(*CREDENTIALS_FILE)


def saved(config: LabConfig) -> dict[str, Any]:
    try:
        data = json.loads(_path(config).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def due(data: dict[str, Any], now: float) -> bool:
    """Within ROTATE_AHEAD of its expiry, or past it (0: the secret never expires)."""
    try:
        expires = int(data.get("client_secret_expires_at") or 0)
    except (TypeError, ValueError):
        return False
    return bool(expires) and bool(data.get("registration_access_token")) \
        and expires - now <= ROTATE_AHEAD


def _write(path: Path, data: dict[str, Any]) -> None:
    """Whole-file replace (0600 temp file renamed): readers never see half a file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _call(method: str, url: str, token: str, ca: str, body: Any = None) -> dict[str, Any]:
    try:
        response = requests.request(method, url, json=body, timeout=TIMEOUT, verify=ca,
                                    headers={"Authorization": f"Bearer {token}"})
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        raise RotationError(f"{method} {url}: {type(error).__name__}") from None
    if response.status_code != 200 or not isinstance(data, dict):
        raise RotationError(f"{method} {url}: HTTP {response.status_code} "
                            f"{str(data)[:200] if isinstance(data, dict) else ''}")
    return data


def rotate(config: LabConfig, *, only_if_due: bool = False) -> dict[str, Any]:
    """RFC 7592 GET then PUT on FinLens's registration; the new secret goes to the file.

    Under an exclusive lock on the file's sibling, so two FinLens threads or processes never
    both rotate: the second finds the secret fresh (with `only_if_due`). Returns what changed
    (never the secret itself)."""
    path = _path(config)
    with open(path.with_name(".tpp-client.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = saved(config)
        if only_if_due and not due(data, clock.now()):
            return {"rotated": False}
        uri, token = data.get("registration_client_uri"), data.get("registration_access_token")
        if not isinstance(uri, str) or not isinstance(token, str):
            raise RotationError("FinLens has no registration access token (RFC 7592 §3)")
        ca = str(config.ca_cert_path)
        current = _call("GET", uri, token, ca)
        body = {k: v for k, v in current.items() if k not in SERVER_FIELDS}
        answer = _call("PUT", uri, token, ca, body)
        secret, expires = answer.get("client_secret"), answer.get("client_secret_expires_at")
        if not isinstance(secret, str) or not secret:
            raise RotationError("the AS answered the update without a new client_secret")
        # RFC 7592 §3: the AS may issue a new registration access token with the update.
        new_token = answer.get("registration_access_token") or token
        _write(path, dict(data, client_secret=secret, client_secret_expires_at=expires,
                          client_secret_issued_at=clock.now(),
                          registration_access_token=new_token))
    return {"rotated": True, "client_id": data.get("client_id"),
            "client_secret_expires_at": expires}


def before_use(config: LabConfig, client_auth: str) -> None:
    """FinLens is about to authenticate at HonestBank with `client_auth`: rotate if due.

    A refused rotation is logged by the caller's error pages at worst: FinLens goes on with
    the secret it has, which the AS may still accept."""
    if client_auth not in SECRET_METHODS or not due(saved(config), clock.now()):
        return
    try:
        rotate(config, only_if_due=True)
    except RotationError:
        return
