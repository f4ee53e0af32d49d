"""Single use holds across gunicorn worker processes: many parallel redemptions, one winner.

The lab is served as `fapi-lab up --workers 3` serves it, once with the single-use
decisions in its SQLite file and once in a real Redis server (`--store redis://...`).
For each single-use value (an authorization code, a request_uri, a refresh token, a
DPoP proof, a client assertion) a burst of requests on separate connections, released
together, presents the same value: exactly one succeeds, every other is refused with
the OAuth error of the control that guards it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from lab.controls import events as lab_events
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from lab.serving.site import WORKER_HEADER
from lab.web.request_id import HEADER
from tests.support import dpop as dpop_support
from tests.support import oauth, redis_server

WORKERS = 3
BURST = 12


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLab, str | None]]:
    server = None
    if request.param == "redis":
        server = redis_server.start(tmp_path_factory.mktemp("redis"))
    try:
        lab = start(private_config(tmp_path_factory.mktemp(f"served-{request.param}")),
                    profile="fapi2-security", write_state=False, workers=WORKERS,
                    store_url=server.url if server else None)
        try:
            Registry(lab.store).set({"refresh_rotation_reuse_detection": True,
                                     "dpop_jti_replay": True})
            # fapi2-security consumes a request_uri when the authorization completes (FAPI2
            # §5.3.2.2 note 3); the burst of page loads below needs the stricter lesson
            # parameter, consumed at first load through the same atomic par.consume.
            Registry(lab.store).set_param("request_uri_single_use", "consume_at", "load")
            yield lab, server.url if server else None
        finally:
            lab.stop()
    finally:
        if server is not None:
            server.stop()


def _session(lab: RunningLab) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(lab.config.ca_cert_path)
    return session


def burst(lab: RunningLab, send: Callable[[requests.Session], requests.Response]
          ) -> list[requests.Response]:
    """BURST requests, each on its own connection, released at once by a barrier."""
    barrier = threading.Barrier(BURST)
    results: list[requests.Response | BaseException] = [RuntimeError("not run")] * BURST

    def one(i: int) -> None:
        with _session(lab) as session:
            barrier.wait()
            try:
                results[i] = send(session)
            except BaseException as error:   # reported below with the others
                results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, requests.Response)]


def linked_tokens(lab: RunningLab, key: dpop_support.DPoPKey) -> dict[str, Any]:
    """PAR, the customer's login and consent, and a DPoP-bound redemption, as FinLens does."""
    with _session(lab) as http:
        code, verifier = oauth.authorize_pushed(http, lab)
        r = dpop_support.redeem(http, lab, key, code, verifier,
                                client_auth=dpop_support.tpp_assertion(lab))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def fired_by(lab: RunningLab, response: requests.Response) -> set[str]:
    request_id = response.headers.get(HEADER, "")
    return {e.control for e in lab_events.list_events(lab.store, request_id=request_id)
            if e.kind == "fired"}


def one_winner(lab: RunningLab, responses: list[requests.Response], ok: int, error: str,
               control: str) -> set[str]:
    """Exactly one `ok`; the rest refused with `error`, attributed to `control`."""
    winners = [r for r in responses if r.status_code == ok]
    assert len(winners) == 1, [(r.status_code, r.text[:120]) for r in responses]
    for loser in (r for r in responses if r is not winners[0]):
        assert error in loser.text + loser.headers.get("WWW-Authenticate", ""), loser.text
        assert control in fired_by(lab, loser), (loser.text, fired_by(lab, loser))
    return {r.headers.get(WORKER_HEADER, "") for r in responses}


def test_one_code_one_redemption(served: tuple[RunningLab, str | None]) -> None:
    lab, _ = served
    with _session(lab) as http:
        code, verifier = oauth.authorize_pushed(http, lab)
    key = dpop_support.DPoPKey(lab)
    responses = burst(lab, lambda s: dpop_support.redeem(
        s, lab, key, code, verifier, client_auth=dpop_support.tpp_assertion(lab)))
    one_winner(lab, responses, 200, "invalid_grant", "code_single_use")


def test_one_request_uri_one_authorization(served: tuple[RunningLab, str | None]) -> None:
    lab, _ = served
    verifier, challenge = oauth.pkce_pair()
    with _session(lab) as http:
        pushed = oauth.push(http, lab, code_challenge=challenge, code_challenge_method="S256")
    assert pushed.status_code == 201, pushed.text
    url = oauth.par_authorization_url(lab, pushed.json()["request_uri"])
    responses = burst(lab, lambda s: s.get(url, allow_redirects=False))
    one_winner(lab, responses, 200, "invalid_request_uri", "request_uri_single_use")


def test_one_refresh_token_one_rotation(served: tuple[RunningLab, str | None]) -> None:
    lab, _ = served
    key = dpop_support.DPoPKey(lab)
    refresh_token = linked_tokens(lab, key)["refresh_token"]
    responses = burst(lab, lambda s: dpop_support.refresh(
        s, lab, key, refresh_token, client_auth=dpop_support.tpp_assertion(lab)))
    one_winner(lab, responses, 200, "invalid_grant", "refresh_rotation_reuse_detection")


def test_one_dpop_proof_one_call(served: tuple[RunningLab, str | None]) -> None:
    lab, _ = served
    key = dpop_support.DPoPKey(lab)
    token = linked_tokens(lab, key)["access_token"]
    proof = key.proof("GET", dpop_support.bank_url(lab, "/accounts"), token=token)
    responses = burst(lab, lambda s: dpop_support.bank_get(s, lab, key, token, proof=proof))
    one_winner(lab, responses, 200, "invalid_dpop_proof", "dpop_jti_replay")


def test_one_client_assertion_one_request(served: tuple[RunningLab, str | None]) -> None:
    lab, _ = served
    assertion = oauth.assertion_params(oauth.client_assertion(lab), "tpp")
    _, challenge = oauth.pkce_pair()
    responses = burst(lab, lambda s: oauth.push(
        s, lab, auth=assertion, code_challenge=challenge, code_challenge_method="S256"))
    one_winner(lab, responses, 201, "invalid_client", "client_assertion_jti_single_use")


def test_bursts_reach_several_workers_and_the_chosen_store(
        served: tuple[RunningLab, str | None], tmp_path: Path) -> None:
    """The guarantee is only tested if requests really spread over processes, and (with
    --store redis://) if Redis really made the decisions."""
    lab, store_url = served
    key = dpop_support.DPoPKey(lab)
    token = linked_tokens(lab, key)["access_token"]
    seen: set[str] = set()
    for _ in range(3):
        responses = burst(lab, lambda s: dpop_support.bank_get(s, lab, key, token))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        seen |= {r.headers.get(WORKER_HEADER, "") for r in responses}
    assert "" not in seen and len(seen) >= 2, seen
    if store_url is not None:
        kinds: dict[str, Any] = {}
        for raw in redis.Redis.from_url(store_url).scan_iter("fapi-lab:*"):
            kinds[raw.decode().split(":")[2]] = True
        assert {"code", "request_uri", "refresh_token", "dpop_jti",
                "assertion_jti"} <= set(kinds), kinds
