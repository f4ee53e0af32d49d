"""Bad input past the first check of login_throttling and risk_based_auth: never a 500.

The route-by-route fuzz (tests/test_bad_input_fuzz.py) reaches /login/device and /lab/device,
but with no pending sign-in of its own it stops at the first check. Here Hypothesis drives
whole sign-ins with both controls on: from a new address (so the risk score asks for the
phone), after some wrong passwords or codes (so the lockout and the per-address limit come
into play), with a garbage device cookie, garbage answers on the phone page and garbage
fields (duplicated, missing, another sign-in's `pending`) at /login, /mfa and /login/device.
Every answer is a page or an OAuth error below 500, and a 429 says when to come back.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from lab.domain import login_risk, login_throttle
from lab.serving.in_process import RunningLab
from tests.support.oauth import authorization_url
from tests.test_bad_input_fuzz import garbage_text

FIELDS = ["pending", "username", "password", "code", "action", "confirmation", "answer",
          "user"]
COOKIES = ["", "x" * 65, "x" * 64, "é", "\x00", '"', ";", "a=b", "known", "\x7f", " "]
ADDRESSES = ["127.0.0.1", "127.0.0.2", "::1", "127.0.0.3"]

cookie_value = st.one_of(st.sampled_from(COOKIES), st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e, blacklist_characters=";,"),
    max_size=80))
fields = st.lists(st.tuples(st.sampled_from(FIELDS), garbage_text), max_size=6)
wrong_tries = st.lists(st.tuples(st.sampled_from(["alice", "bob", "", "nobody", "ALICE"]),
                                 garbage_text), max_size=12)


@pytest.fixture
def fresh(lab: RunningLab, controls: Any) -> Any:
    controls.only("risk_based_auth", "login_throttling")
    yield controls
    login_risk.clear(lab.store)
    login_throttle.clear(lab.store)


def _pending(text: str) -> str | None:
    marker = 'name="pending" value="'
    return text.split(marker, 1)[1].split('"', 1)[0] if marker in text else None


def _check(response: Any, what: str, seen: set[tuple[str, int]]) -> None:
    seen.add((what, response.status_code))
    assert response.status_code < 500, (what, response.status_code, response.get_data()[:300])
    if response.status_code == 429:
        assert response.headers.get("Retry-After", "").isdigit(), (what, response.headers)


@pytest.mark.timeout(900)
def test_sign_ins_with_risk_and_throttling_never_answer_bad_input_with_a_500(
        lab: RunningLab, fresh: Any) -> None:
    base = lab.config.as_url
    seen: set[tuple[str, int]] = set()

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(address=st.sampled_from(ADDRESSES), cookie=st.one_of(st.none(), cookie_value),
           mfa=st.booleans(), wrong=wrong_tries, login_extra=fields, device_extra=fields,
           phone_extra=fields, mfa_extra=fields,
           answer=st.one_of(st.none(), st.just("approve"), st.just("decline"), garbage_text),
           swap_pending=st.booleans(), clear=st.sampled_from([True, True, True, False]))
    def one(address: str, cookie: str | None, mfa: bool, wrong: list[tuple[str, str]],
            login_extra: list[tuple[str, str]], device_extra: list[tuple[str, str]],
            phone_extra: list[tuple[str, str]], mfa_extra: list[tuple[str, str]],
            answer: str | None, swap_pending: bool, clear: bool) -> None:
        if clear:   # else the lockouts, known devices and addresses of earlier examples stay
            login_throttle.clear(lab.store)
            login_risk.clear(lab.store)
        fresh.set(mfa_required=mfa)
        client = lab.apps["as"].test_client()
        client.environ_base["REMOTE_ADDR"] = address
        if cookie is not None:
            client.set_cookie("hb_device", cookie, domain="127.0.0.1")
        page = client.get(authorization_url(lab), headers={"Accept": "text/html"})
        _check(page, "authorize", seen)
        pending = _pending(page.get_data(as_text=True))
        assert pending, page.get_data()[:300]
        for username, password in wrong:
            r = client.post(base + "/login", data={"pending": pending, "username": username,
                                                   "password": password})
            _check(r, "wrong password", seen)
        r = client.post(base + "/login", data=MultiDict(
            [("pending", pending), ("username", "alice"), ("password", "wonderland"),
             *login_extra]))
        _check(r, "login", seen)
        text = r.get_data(as_text=True)
        phone = client.get(base + "/lab/device", query_string=MultiDict(
            [("user", "alice"), *phone_extra]))
        _check(phone, "phone page", seen)
        marker = 'name="confirmation" value="'
        confirmation = phone.get_data(as_text=True).split(marker, 1)[1].split('"', 1)[0] \
            if marker in phone.get_data(as_text=True) else "confirm-none"
        if answer is not None:   # None: she has not answered yet (the device step's 409)
            form = [("confirmation", confirmation), ("user", "alice"), ("answer", answer),
                    *phone_extra]
            _check(client.post(base + "/lab/device", data=MultiDict(form)), "phone answer", seen)
        other = _pending(client.get(authorization_url(lab)).get_data(as_text=True))
        sent = other if swap_pending and other else pending
        if 'data-step="device"' in text:
            r = client.post(base + "/login/device",
                            data=MultiDict([("pending", sent), *device_extra]))
            _check(r, "device step", seen)
            text = r.get_data(as_text=True)
        if 'data-step="mfa"' in text:
            r = client.post(base + "/mfa", data=MultiDict(
                [("pending", sent), ("action", "verify"), ("code", "000000"), *mfa_extra]))
            _check(r, "second factor", seen)

    one()
    # the fuzz got past the first checks: a confirmation asked and answered, a lockout
    assert {("device step", 303), ("device step", 403), ("device step", 409)} <= seen, seen
    assert ("login", 429) in seen and ("login", 403) in seen, seen
