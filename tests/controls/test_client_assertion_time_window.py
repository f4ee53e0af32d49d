"""client_assertion_time_window: a private_key_jwt assertion whose exp has passed, or whose iat
or nbf lies more than 60 s ahead, is refused (RFC 7523 §3; FAPI2 §5.3.2.1)."""

from __future__ import annotations

import pytest

from lab import clock
from tests.support.oauth import assertion_params, client_assertion, push

HOUR = 3600


def _made_ahead(lab, case: str) -> str:  # type: ignore[no-untyped-def]
    """An assertion made ahead of time, as the conformance suite's negative tests send it."""
    now = clock.now_int(lab.store)
    if case == "exp long past":
        # signed an hour ago with the 60 s life the jti check allows
        return client_assertion(lab, iat=now - HOUR, exp=now - HOUR + 60)
    if case == "iat far ahead":
        return client_assertion(lab, iat=now + HOUR, exp=now + HOUR + 60)
    return client_assertion(lab, iat=now, nbf=now + HOUR, exp=now + HOUR + 60)


CASES = ["exp long past", "iat far ahead", "nbf far ahead"]


@pytest.mark.parametrize("case", CASES)
def test_assertion_made_ahead_of_time_authenticates_when_off(lab, controls, http, fired, case):
    controls.only()
    r = push(http, lab, auth=assertion_params(_made_ahead(lab, case)))
    assert r.status_code == 201, r.text
    assert fired(r) == []


@pytest.mark.parametrize("case", CASES)
def test_assertion_made_ahead_of_time_is_refused_with_invalid_client_when_on(
        lab, controls, http, fired, case):
    controls.only("client_assertion_time_window")
    r = push(http, lab, auth=assertion_params(_made_ahead(lab, case)))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert fired(r) == ["client_assertion_time_window"]


@pytest.mark.parametrize("ahead", [0, 8, 59])
def test_assertion_a_few_seconds_ahead_is_accepted_when_on(lab, controls, http, fired, ahead):
    # FAPI2 §5.3.2.1: iat up to 10 s in the future "shall" be accepted (clock skew)
    controls.only("client_assertion_time_window")
    now = clock.now_int(lab.store)
    r = push(http, lab, auth=assertion_params(
        client_assertion(lab, iat=now + ahead, nbf=now + ahead, exp=now + ahead + 60)))
    assert r.status_code == 201, r.text
    assert fired(r) == []


def test_an_old_assertion_is_refused_after_its_exp_when_on(lab, controls, http, fired):
    controls.only("client_assertion_time_window")
    old = client_assertion(lab)
    clock.advance(lab.store, 180)
    r = push(http, lab, auth=assertion_params(old))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["client_assertion_time_window"]


@pytest.mark.parametrize("claims", [{"exp": None}, {"exp": "soon"}, {"iat": "now"},
                                    {"nbf": [1]}, {"exp": float("nan")}])
def test_time_claims_that_are_not_numbers_are_invalid_client_either_way(
        lab, controls, http, fired, claims):
    for on in (False, True):
        controls.only("client_assertion_time_window") if on else controls.only()
        r = push(http, lab, auth=assertion_params(client_assertion(lab, **claims)))
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", (on, r.text)
        assert fired(r) == []
