"""dpop_jti_replay: a proof's jti is accepted once per target URI within the window, atomically
across workers (RFC 9449 §11.1; FAPI2 §6.2)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import account, ensure_bank_knows_as_keys
from tests.support.dpop import DPoPKey, bank_get, bank_url, challenge, dpop_tokens, redeem
from tests.support.oauth import authorize

TRANSACTIONS = f"/accounts/{account('alice', 'checking')}/transactions"


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _replay(lab: RunningLab, http: requests.Session) -> tuple[requests.Response, ...]:
    """dpop-proof-replay: the same resource request (token + proof) sent twice."""
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    proof = key.proof("GET", bank_url(lab, TRANSACTIONS), token=token)
    return tuple(bank_get(http, lab, key, token, TRANSACTIONS, proof=proof) for _ in range(2))


def test_replayed_resource_request_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    first, replay = _replay(lab, http)
    assert first.status_code == 200, first.text
    assert replay.status_code == 200, replay.text
    assert fired(replay) == []


def test_replayed_resource_request_is_refused_with_invalid_dpop_proof_when_on(lab, controls,
                                                                              http, fired):
    controls.only("dpop_jti_replay")
    first, replay = _replay(lab, http)
    assert first.status_code == 200, first.text
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_dpop_proof"
    assert challenge(replay).startswith('DPoP realm="HonestBank", error="invalid_dpop_proof"')
    assert fired(replay) == ["dpop_jti_replay"]


def test_token_request_proof_reused_for_another_code_is_refused_when_on(lab, controls, http,
                                                                        fired):
    controls.only("dpop_jti_replay")
    key = DPoPKey(lab)
    proof = key.proof("POST", lab.config.as_url + "/token")
    first = redeem(http, lab, key, *authorize(lab), proof=proof)
    assert first.status_code == 200, first.text
    r = redeem(http, lab, key, *authorize(lab), proof=proof)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_jti_replay"]
    controls.only("dpop_bound_tokens")
    assert redeem(http, lab, key, *authorize(lab), proof=proof).status_code == 200


def test_the_same_jti_is_fine_at_another_uri(lab, controls, http, fired):
    controls.only("dpop_jti_replay")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    for path in ("/accounts", TRANSACTIONS):
        r = bank_get(http, lab, key, token, path, jti="same-jti-" + key.jkt[:8])
        assert r.status_code == 200, r.text


def test_concurrent_replays_are_accepted_exactly_once(lab, controls, http, fired):
    controls.only("dpop_jti_replay")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    proof = key.proof("GET", bank_url(lab, "/accounts"), token=token)

    def send(_: int) -> int:
        with requests.Session() as session:
            session.trust_env = False
            session.verify = http.verify
            return bank_get(session, lab, key, token, proof=proof).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(8)))
    assert sorted(statuses) == [200] + [401] * 7


def test_expired_jti_rows_are_cleaned_up(lab, controls, http, fired):
    controls.only("dpop_jti_replay", "dpop_iat_window")  # the window bounds what is kept
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    jti = "cleanup-" + key.jkt[:12]
    assert bank_get(http, lab, key, token, jti=jti).status_code == 200
    count = "SELECT COUNT(*) AS n FROM dpop_jti WHERE jti = ?"
    assert lab.store.query_one(count, (jti,))["n"] == 1  # type: ignore[index]
    clock.advance(lab.store, 600)
    bank_get(http, lab, key, token)
    assert lab.store.query_one(count, (jti,))["n"] == 0  # type: ignore[index]
