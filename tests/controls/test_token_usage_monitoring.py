"""token_usage_monitoring: a token family used unlike its first use is alerted on, then revoked.

Both ways on the bank directly (a minted family, a second client bound to 127.0.0.2), and the
catalog attack token-use-new-location on a lab behind the capture. Honest use from the
family's own address, program and key, refreshes included, never trips it.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from attacker import net
from attacker.attacks import dpop_pregenerated_proof, token_use_new_location
from lab.domain import consent, usage_monitor
from lab.serving.in_process import RunningLab
from tests.attacks.conftest import attack_lab, run_attack, story  # noqa: F401  (fixtures)
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys, mint
from tests.test_bank_connected_apps import sign_in

ID = "token_usage_monitoring"
FINLENS_UA = {"User-Agent": "FinLens/1.0"}
OTHER_UA = {"User-Agent": "python-httpx/0.27.0"}


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


@pytest.fixture
def elsewhere(lab: RunningLab) -> Iterator[requests.Session]:
    """A client on 127.0.0.2: the bank sees another source address."""
    session = net.session(str(lab.config.ca_cert_path))
    yield session
    session.close()


def _url(lab: RunningLab, path: str = "/accounts") -> str:
    return lab.config.bank_url + path


def _alerts(lab: RunningLab, response: requests.Response) -> list[str]:
    from lab.controls import events
    rid = response.headers["X-Lab-Request-Id"]
    return [e.reason for e in events.list_events(lab.store, request_id=rid) if e.kind == "alert"]


def test_new_address_and_user_agent_work_when_off(lab, controls, http, elsewhere, fired):
    controls.only()
    minted = mint(lab)
    assert http.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA}).status_code == 200
    r = elsewhere.get(_url(lab), headers={**bearer(minted.token), **OTHER_UA})
    assert r.status_code == 200, r.text
    assert fired(r) == [] and _alerts(lab, r) == []


def test_new_address_and_user_agent_revoke_the_family_when_on(lab, controls, http, elsewhere,
                                                              fired):
    controls.only(ID)
    minted = mint(lab)
    assert http.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA}).status_code == 200
    # A new address alone is an alert (40 < 60), still served.
    moved = elsewhere.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA})
    assert moved.status_code == 200, moved.text
    assert fired(moved) == []
    assert any("source address '127.0.0.1' → '127.0.0.2'" in a for a in _alerts(lab, moved))
    # ... another program too: 70 ≥ 60, the family is revoked and this request refused.
    r = elsewhere.get(_url(lab), headers={**bearer(minted.token), **OTHER_UA})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert fired(r) == [ID]
    assert any("user agent" in a for a in _alerts(lab, r))
    grant = consent.get_grant(lab.store, minted.grant_id)
    assert grant is not None and not grant["active"]
    status = consent.access_token_status(lab.store, minted.jti)
    assert status is not None and status["revoked"]
    # Even from the family's own address now: the family is gone (at_revocation_check off).
    again = http.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA})
    assert again.status_code == 401 and fired(again) == [ID]
    family = usage_monitor.family(lab.store, minted.grant_id)
    assert family is not None and "user agent changed" in family["reason"]
    # alice reads why on her connected-apps page.
    page = requests.Session()
    page.trust_env, page.verify = False, str(lab.config.ca_cert_path)
    shown = sign_in(lab, page)
    assert shown.status_code == 200
    text = html.unescape(shown.text)
    assert "stopped tpp-test's access because its access was used from a network it had never " \
           "used (127.0.0.2) and by a different program." in text, text


def test_probes_of_unconsented_accounts_add_up(lab, controls, http, elsewhere, fired):
    controls.only(ID, "consent_per_account")
    checking, savings = account("alice", "checking"), account("alice", "savings")
    minted = mint(lab, accounts={checking: ["balances", "transactions"]})
    headers = {**bearer(minted.token), **FINLENS_UA}
    assert http.get(_url(lab, f"/accounts/{checking}/balances"),
                    headers=headers).status_code == 200
    probe = http.get(_url(lab, f"/accounts/{savings}/balances"), headers=headers)
    assert probe.status_code == 403       # consent_per_account refuses; monitoring notes it
    assert any("does not share" in a for a in _alerts(lab, probe))
    r = elsewhere.get(_url(lab, f"/accounts/{checking}/balances"), headers=headers)
    assert r.status_code == 401 and fired(r) == [ID]          # probe 40 + address 40


def test_rate_is_counted_per_lab_clock_window(lab, controls, http, fired):
    controls.only(ID)
    controls.param(ID, "rate_window", 3600)   # one window for the whole test: counts, no timing
    controls.param(ID, "rate_limit", 3)
    controls.param(ID, "threshold", 100)
    minted = mint(lab)
    headers = {**bearer(minted.token), **FINLENS_UA}
    answers = [http.get(_url(lab), headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert _alerts(lab, answers[2]) == []
    assert any("4 requests in 3600 lab-clock s" in a for a in _alerts(lab, answers[3]))
    assert _alerts(lab, answers[4]) == []          # one alert per kind of change, not a flood


def test_threshold_and_weights_are_run_time_parameters(lab, controls, http, elsewhere, fired):
    controls.only(ID)
    controls.param(ID, "weights", {"address": 100})
    minted = mint(lab)
    assert http.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA}).status_code == 200
    r = elsewhere.get(_url(lab), headers={**bearer(minted.token), **FINLENS_UA})
    assert r.status_code == 401 and fired(r) == [ID]


def test_honest_use_from_the_same_place_never_trips_it(lab, controls, http, fired):
    """Several users, each family used many times and re-issued (a refresh: a new access
    token under the same grant) from 127.0.0.1 with the same program: no alert, no refusal."""
    controls.only(ID)
    for username in ("alice", "bob", "mallory"):
        first = mint(lab, username=username)
        headers = {**bearer(first.token), **FINLENS_UA}
        for _ in range(5):
            r = http.get(_url(lab), headers=headers)
            assert r.status_code == 200 and _alerts(lab, r) == []
        # The AS's record of the token names its grant (what a refresh would issue).
        refreshed = mint(lab, username=username)
        lab.store.execute("UPDATE access_tokens SET grant_id = ? WHERE jti = ?",
                          (first.grant_id, refreshed.jti))
        for _ in range(5):
            r = http.get(_url(lab), headers={**bearer(refreshed.token), **FINLENS_UA})
            assert r.status_code == 200 and fired(r) == [] and _alerts(lab, r) == []
        family = usage_monitor.family(lab.store, first.grant_id)
        assert family is not None and family["score"] == 0 and family["revoked_at"] is None


# --- the catalog attack, for real through the capture -------------------------------------------

@pytest.fixture
def attack(request: pytest.FixtureRequest) -> Any:
    """tests/attacks' run_attack (a lab behind the capture), under a name of this module."""
    return request.getfixturevalue("run_attack")


def test_token_use_new_location_succeeds_without_monitoring(attack: Any) -> None:
    outcome = attack(token_use_new_location.ATTACK, "fapi2-security")
    assert outcome.status == "succeeded", story(outcome)


def test_token_use_new_location_is_blocked_by_monitoring(attack: Any,
                                                         request: pytest.FixtureRequest) -> None:
    outcome = attack(token_use_new_location.ATTACK, "fapi2-security", **{ID: True})
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls[0] == ID, story(outcome)
    # FinLens was told at once (a pushed SET), before it called the bank again.
    store = request.getfixturevalue("attack_lab").store
    link = store.query_one("SELECT status, status_reason FROM tpp_links "
                           "ORDER BY updated_at DESC LIMIT 1")
    assert link is not None and link["status"] == "revoked", link
    assert "HonestBank's monitoring" in link["status_reason"], link
    assert "different program" in link["status_reason"], link


def test_token_use_new_location_is_blocked_alone_over_legacy(attack: Any) -> None:
    outcome = attack(token_use_new_location.ATTACK, "legacy", **{ID: True})
    assert outcome.status == "blocked", story(outcome)
    assert ID in outcome.fired_controls, story(outcome)


def test_pregenerated_proofs_are_only_alerted_on(attack: Any) -> None:
    """Only the address changes (same key, same program, one request a minute): an alert
    below the threshold, so monitoring alone does not stop it (the attack's not_alone)."""
    assert ID in dpop_pregenerated_proof.ATTACK.not_alone
    outcome = attack(dpop_pregenerated_proof.ATTACK, "legacy", **{ID: True})
    assert outcome.status == "succeeded", story(outcome)
    assert any(e.control == ID and e.kind == "alert" for e in outcome.events), story(outcome)
