"""login_throttling: ≤ 5 consecutive failures per account lock it (lab clock); an address with
many failures is slowed, then refused, with 429 and Retry-After (RTS Art. 4; NIST SP 800-63B
§5.2.2)."""

from __future__ import annotations

import pytest

from attacker import net
from lab import clock
from lab.domain import customers, login_throttle
from tests.support.oauth import authorization_url, victim


@pytest.fixture(autouse=True)
def fresh(lab):  # type: ignore[no-untyped-def]
    login_throttle.clear(lab.store)
    yield
    login_throttle.clear(lab.store)


def _login_page(lab, session):  # type: ignore[no-untyped-def]
    page = session.get(authorization_url(lab), timeout=10)
    return page.text.split('name="pending" value="')[1].split('"')[0]


def _try(lab, session, pending, username, password):  # type: ignore[no-untyped-def]
    return session.post(lab.config.as_url + "/login", timeout=10, allow_redirects=False,
                        data={"pending": pending, "username": username, "password": password})


def test_off_every_guess_is_checked_and_the_right_password_works(lab, controls, http, fired):
    controls.only()
    pending = _login_page(lab, http)
    for n in range(8):
        r = _try(lab, http, pending, "bob", f"wrong{n}")
        assert r.status_code == 401 and not fired(r)
    r = _try(lab, http, pending, "bob", "canwefixit")
    assert r.status_code == 303 and "/consent" in r.headers["Location"]


def test_on_five_failures_lock_the_account_until_the_lab_clock_passes(lab, controls, http, fired):
    controls.only("login_throttling")
    pending = _login_page(lab, http)
    for n in range(4):
        assert _try(lab, http, pending, "bob", f"wrong{n}").status_code == 401
    fifth = _try(lab, http, pending, "bob", "wrong4")
    assert fifth.status_code == 429 and "unlocks at" in fifth.text
    assert fired(fifth) == ["login_throttling"]
    right = _try(lab, http, pending, "bob", "canwefixit")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 800
    assert "locked" in right.text and fired(right) == ["login_throttling"]
    clock.advance(lab.store, 901)
    try:
        r = _try(lab, http, _login_page(lab, http), "bob", "canwefixit")
        assert r.status_code == 303, r.text
    finally:
        clock.reset(lab.store)


def test_on_wrong_codes_lock_too_and_void_the_code_sent(lab, controls, fired):
    controls.only("login_throttling", "mfa_required")
    ua = victim(lab, username="bob")
    page = ua.authorize(authorization_url(lab), stop_before="mfa")
    pending = page.response.text.split('name="pending" value="')[1].split('"')[0]
    sent = customers.sms_inbox(lab.store, 1)[0]["code"]
    wrong = "0000" if sent != "0000" else "1111"
    answers = [ua.session.post(lab.config.as_url + "/mfa", timeout=10,
                               data={"pending": pending, "code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 4 + [429]
    assert "login_throttling" in fired(answers[-1])
    late = ua.session.post(lab.config.as_url + "/mfa", data={"pending": pending, "code": sent})
    assert late.status_code == 429 and late.headers["Retry-After"]
    assert customers.sms_inbox(lab.store, 1)[0]["used"] == 1


def test_on_an_address_spraying_accounts_is_slowed_then_refused(lab, controls, fired):
    controls.only("login_throttling")
    controls.param("login_throttling", "address_slow_after", 4)
    controls.param("login_throttling", "address_limit", 6)
    spray = net.session(str(lab.config.ca_cert_path))
    pending = _login_page(lab, spray)
    names = ["alice", "bob", "mallory", "carol"]
    statuses = []
    for n in range(4):
        statuses.append(_try(lab, spray, pending, names[n], "Summer2024").status_code)
    slowed = _try(lab, spray, pending, "alice", "Summer2024")
    assert statuses == [401] * 4 and slowed.status_code == 429, statuses
    assert fired(slowed) == ["login_throttling"] and slowed.headers["Retry-After"] == "10"
    clock.advance(lab.store, 11)
    try:
        assert _try(lab, spray, pending, "dave", "x").status_code == 401
        clock.advance(lab.store, 11)
        assert _try(lab, spray, pending, "erin", "x").status_code == 401
        clock.advance(lab.store, 11)
        refused = _try(lab, spray, pending, "frank", "x")
        assert refused.status_code == 429 and "Try again at" in refused.text
        # the honest address next door is not affected
        honest = victim(lab).session
        assert _try(lab, honest, _login_page(lab, honest), "alice", "nope").status_code == 401
    finally:
        clock.reset(lab.store)
