"""An AS key rotation in the middle of a workload (`fapi-lab load --rotate-keys-after N`).

The Locust process that holds the statistics (the only one, or the master) watches the
request count; after N requests it rotates the AS signing key through the lab's admin API
(`POST /admin/keys/rotate`, what `fapi-lab keys rotate` sends), remembering how many
requests and failures there were at that moment. The new key signs only after the AS's
publish-ahead (lab.protocol.key_rotation.PUBLISH_AHEAD); once it does, a bank workload's
token is refreshed (RFC 6749 §6, as the TPP would) into a token signed by the new key and
handed to half the users (Locust's custom messages reach every worker); the other half go
on with the old key's token, which the AS still publishes. Requests made with, or (token
workloads) answered by, a new-key token are their own rows of statistics, "… (new key)".

The rotation is triggered by a count, never by wall time; with Locust workers the master's
count arrives every few seconds, so "after" may hold a few requests sent just before.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import gevent
import requests
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from lab.jose import b64
from loadtests.common import MATERIAL, SUMMARY_EXTRAS, ClientAssertions, dpop_signer, lab_now

ROTATION: dict[str, Any] | None = MATERIAL.get("rotation")
TOKEN_MESSAGE = "fapi-lab-new-key-token"
REFRESH_ATTEMPTS = 5     # refreshes until one is signed by the new key (lab clock skew)
RECORD: dict[str, Any] = {}
TOKENS: dict[str, str] = {}      # "new": the access token the rotator got after the rotation


def kid(token: str | None) -> str | None:
    """The kid in a JWS's header (never trusted: only to name a statistics row)."""
    try:
        header = json.loads(b64.decode(str(token).split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError, IndexError):
        return None
    return header.get("kid") if isinstance(header, dict) else None


def key_label(token: str | None) -> str:
    """" (new key)" for a token not signed by the key that signed when the workload began."""
    if ROTATION is None or token is None:
        return ""
    return " (new key)" if kid(token) not in (None, ROTATION["initial_kid"]) else ""


def bank_token(user_number: int, old: str) -> str:
    """The token a bank workload's user sends now: odd users switch to the new one."""
    return TOKENS.get("new", old) if user_number % 2 else old


class BankToken:
    """A bank workload user's token: the prepared one, or after a rotation (odd users) the
    new key's, with the suffix naming its row of statistics."""

    numbers = itertools.count()

    def __init__(self) -> None:
        self.number = next(self.numbers)
        self.old = str(MATERIAL["access_token"])

    def now(self) -> tuple[str, str]:
        token = bank_token(self.number, self.old)
        return token, key_label(token)


def _failures(environment: Any) -> int:
    exceptions = sum(row["count"] for row in environment.runner.exceptions.values())
    return int(environment.stats.total.num_failures) + exceptions


def _http() -> requests.Session:
    http = requests.Session()
    http.verify = MATERIAL["ca_cert"]
    http.trust_env = False
    return http


def _refresh(http: requests.Session) -> str | None:
    """One refresh grant with the material's refresh token; the new access token or None."""
    assert ROTATION is not None
    url = MATERIAL["as_url"] + "/token"
    form = {"grant_type": "refresh_token", "refresh_token": ROTATION["refresh_token"],
            **ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                               MATERIAL["assertion_alg"], MATERIAL["issuer"]).form()}
    headers = {}
    if MATERIAL.get("dpop_jwk"):
        headers["DPoP"] = dpop_signer(MATERIAL["dpop_jwk"]).proof("POST", url)
    cert = tuple(MATERIAL["client_cert"]) if MATERIAL.get("client_cert") else None
    r = http.post(url, data=form, headers=headers, cert=cert, timeout=30)
    if r.status_code != 200:
        RECORD["refresh_error"] = f"HTTP {r.status_code}: {r.text[:200]}"
        return None
    body = r.json()
    ROTATION["refresh_token"] = body.get("refresh_token") or ROTATION["refresh_token"]
    token = body.get("access_token")
    return token if isinstance(token, str) else None


def _switch_tokens(environment: Any, http: requests.Session, active_at: float) -> None:
    """Once the new key signs, refresh into a token it signed and hand it to the users."""
    gevent.sleep(max(0.0, active_at - lab_now()))
    for _ in range(REFRESH_ATTEMPTS):
        token = _refresh(http)
        if token is not None and key_label(token):
            RECORD["new_key_token_at_requests"] = int(environment.stats.total.num_requests)
            environment.runner.send_message(TOKEN_MESSAGE, token)
            return
        if token is None:
            return
        gevent.sleep(1.0)


def _rotate(environment: Any) -> None:
    assert ROTATION is not None
    stats = environment.stats.total
    while stats.num_requests < ROTATION["after_requests"]:
        gevent.sleep(0.05)
    RECORD.update(at=time.time(), requests_before=int(stats.num_requests),
                  failures_before=_failures(environment))
    http = _http()
    try:
        r = http.post(ROTATION["admin_url"] + "/keys/rotate", json={}, timeout=30,
                      headers={"Authorization": f"Bearer {ROTATION['admin_token']}"})
        body = r.json()
    except (requests.RequestException, ValueError) as error:
        RECORD["error"] = f"admin API: {type(error).__name__}"
        return
    if r.status_code != 200:
        RECORD["error"] = str(body.get("error_description") or f"HTTP {r.status_code}")
        return
    RECORD.update(rotated=True, new_kid=body["new_kid"], old_kid=body["old_kid"],
                  publish_ahead_seconds=body.get("publish_ahead_seconds"))
    if ROTATION.get("refresh_token"):
        _switch_tokens(environment, http, float(body.get("active_at") or 0))


def summary() -> dict[str, Any]:
    """Before and after the rotation, for <csv prefix>_summary.json (written at quitting)."""
    assert ROTATION is not None
    out = dict(RECORD, after_requests=ROTATION["after_requests"])
    out.pop("environment", None)
    environment = RECORD.get("environment")
    if environment is not None and "at" in RECORD:
        stats = environment.stats.total
        out.update(requests_total=int(stats.num_requests), failures_total=_failures(environment),
                   ended=float(stats.last_request_timestamp or time.time()))
    return out


def _on_token(environment: Any, msg: Any, **_: Any) -> None:
    TOKENS["new"] = str(msg.data)


@events.init.add_listener
def _register(environment: Any, **_: Any) -> None:
    if ROTATION is not None and not isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(TOKEN_MESSAGE, _on_token)


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    if ROTATION is not None and not isinstance(environment.runner, WorkerRunner):
        RECORD.update(started=time.time(), rotated=False, environment=environment)
        gevent.spawn(_rotate, environment)


if ROTATION is not None:
    SUMMARY_EXTRAS["rotation"] = summary
