"""client_assertion_jti_single_use: an assertion's jti is accepted once, atomically across
workers, and exp − iat ≤ 60 s (OIDC §9; RFC 7523 §3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.oauth import (
    assertion_params,
    authorize,
    client_assertion,
    push,
    redeem_with_assertion,
)


def _refresh_token(http, lab):
    code, verifier = authorize(lab)
    r = redeem_with_assertion(http, lab, code, verifier)
    assert r.status_code == 200, r.text
    return r.json()["refresh_token"]


def _refresh(http, lab, refresh_token, assertion):
    return http.post(lab.config.as_url + "/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        **assertion_params(assertion, "tpp")})


def test_captured_assertion_is_replayed_with_a_refresh_token_when_off(
        lab, controls, http, fired):
    controls.only()
    refresh_token = _refresh_token(http, lab)
    captured = client_assertion(lab)
    assert _refresh(http, lab, refresh_token, captured).status_code == 200   # the TPP
    replay = _refresh(http, lab, refresh_token, captured)                   # the attacker
    assert replay.status_code == 200, replay.text
    assert fired(replay) == []


def test_captured_assertion_replay_is_refused_with_invalid_client_when_on(
        lab, controls, http, fired):
    controls.only()
    refresh_token = _refresh_token(http, lab)
    controls.only("client_assertion_jti_single_use")
    captured = client_assertion(lab)
    assert _refresh(http, lab, refresh_token, captured).status_code == 200
    replay = _refresh(http, lab, refresh_token, captured)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"
    assert replay.headers["Cache-Control"] == "no-store"
    assert fired(replay) == ["client_assertion_jti_single_use"]


def test_replay_at_par_works_when_off_and_is_refused_when_on(lab, controls, http, fired):
    controls.only()
    captured = assertion_params(client_assertion(lab))
    assert push(http, lab, auth=captured).status_code == 201
    assert push(http, lab, auth=captured).status_code == 201
    controls.only("client_assertion_jti_single_use")
    fresh = assertion_params(client_assertion(lab))
    assert push(http, lab, auth=fresh).status_code == 201
    replay = push(http, lab, auth=fresh)
    assert replay.status_code == 401 and fired(replay) == ["client_assertion_jti_single_use"]


def test_long_lived_assertion_is_accepted_when_off_and_refused_when_on(
        lab, controls, http, fired):
    controls.only()
    assert push(http, lab, auth=assertion_params(
        client_assertion(lab, lifetime=3600))).status_code == 201
    controls.only("client_assertion_jti_single_use")
    r = push(http, lab, auth=assertion_params(client_assertion(lab, lifetime=3600)))
    assert r.status_code == 401 and fired(r) == ["client_assertion_jti_single_use"]


def test_assertion_without_jti_is_refused_when_on(lab, controls, http, fired):
    controls.only()
    assert push(http, lab, auth=assertion_params(
        client_assertion(lab, jti=None))).status_code == 201
    controls.only("client_assertion_jti_single_use")
    r = push(http, lab, auth=assertion_params(client_assertion(lab, jti=None)))
    assert r.status_code == 401 and fired(r) == ["client_assertion_jti_single_use"]


def test_concurrent_replays_let_exactly_one_through_when_on(lab, controls, fired):
    controls.only("client_assertion_jti_single_use")
    captured = assertion_params(client_assertion(lab))

    def attempt(_: int) -> int:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(lab.config.ca_cert_path)
        with session:
            return push(session, lab, auth=captured).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert sorted(statuses) == [201] + [401] * 7
