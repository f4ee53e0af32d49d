"""risk_based_auth with scorer='learned': an IsolationForest trained on the customer's own
sign-ins (optional extra `risk`), its reasons on the page and in the event, its fallback to
the rules, and the admin API's 400 while scikit-learn is missing."""

from __future__ import annotations

import importlib.util

import pytest

from attacker import net
from lab import clock, context
from lab.controls import catalog
from lab.controls import events as lab_events
from lab.domain import login_risk, login_throttle
from lab.domain.login_risk import SignIn
from lab.web.request_id import HEADER
from tests.support.oauth import authorization_url


@pytest.fixture(autouse=True)
def fresh(lab):  # type: ignore[no-untyped-def]
    login_risk.clear(lab.store)
    login_throttle.clear(lab.store)
    yield
    login_risk.clear(lab.store)
    login_throttle.clear(lab.store)


def _password(lab):  # type: ignore[no-untyped-def]
    """alice's right password from an address and a browser she never used (127.0.0.2)."""
    session = net.session(str(lab.config.ca_cert_path))
    page = session.get(authorization_url(lab), timeout=10)
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    return session.post(lab.config.as_url + "/login", allow_redirects=False, timeout=10,
                        data={"pending": pending, "username": "alice",
                              "password": "wonderland"})


def _honest_history(lab, count: int = 30) -> None:  # type: ignore[no-untyped-def]
    """alice's completed sign-ins, from home in her own browser, all at this lab hour."""
    with context.bound(lab.store, "as"):
        for _ in range(count):
            login_risk.remember(lab.store, "alice", SignIn(address="127.0.0.1", device="home"))


def _event_reason(lab, response) -> str:  # type: ignore[no-untyped-def]
    events = lab_events.list_events(lab.store, request_id=response.headers[HEADER])
    return " ".join(e.reason for e in events if e.control == "risk_based_auth")


def test_the_rules_are_the_default_scorer(lab, controls):
    controls.only("risk_based_auth")
    assert catalog.get("risk_based_auth").params["scorer"] == "rules"
    _honest_history(lab)
    r = _password(lab)
    assert 'data-step="device"' in r.text and "learned" not in r.text


def test_learned_a_new_address_and_browser_at_an_odd_hour_asks_her_phone(lab, controls):
    pytest.importorskip("sklearn")
    controls.only("risk_based_auth")
    controls.param("risk_based_auth", "scorer", "learned")
    _honest_history(lab)
    clock.advance(lab.store, 12 * 3600)       # half a day from every hour she signed in at
    r = _password(lab)
    assert r.status_code == 200 and 'data-step="device"' in r.text
    assert "IsolationForest on her 30 past sign-ins" in r.text
    assert "a new address (127.0.0.2" in r.text and "an hour unusual for her" in r.text
    waiting = login_risk.waiting(lab.store, "alice")
    assert any("learned" in reason for reason in waiting[0]["reasons"])


def test_learned_above_deny_at_refuses_with_its_reasons_in_the_event(lab, controls, fired):
    pytest.importorskip("sklearn")
    controls.only("risk_based_auth")
    controls.param("risk_based_auth", "scorer", "learned")
    controls.param("risk_based_auth", "deny_at", 4)
    _honest_history(lab)
    r = _password(lab)
    assert r.status_code == 403 and fired(r) == ["risk_based_auth"]
    assert "a new address (127.0.0.2" in r.text and "model weighs it" in r.text
    assert "IsolationForest on her 30 past sign-ins" in _event_reason(lab, r)


def test_learned_her_usual_sign_in_is_allowed(lab, controls):
    pytest.importorskip("sklearn")
    controls.only("risk_based_auth")
    controls.param("risk_based_auth", "scorer", "learned")
    _honest_history(lab)
    with context.bound(lab.store, "as"):
        assessment = login_risk.assess(lab.store, "alice", SignIn("127.0.0.1", "home"))
    assert assessment.decision == "allow" and "like her history" in assessment.reasons[0]


def test_learned_with_too_little_history_the_rules_score_and_say_so(lab, controls):
    pytest.importorskip("sklearn")
    controls.only("risk_based_auth")
    controls.param("risk_based_auth", "scorer", "learned")
    _honest_history(lab, 3)
    r = _password(lab)
    assert 'data-step="device"' in r.text and "+3 a new address (127.0.0.2)" in r.text
    assert "3 past sign-ins of alice, it needs 20: the rules scored this one" in r.text


def test_admin_refuses_learned_while_scikit_learn_is_missing(lab, controls, http,
                                                             monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real(name, *a))
    token = lab.config.admin_token_path.read_text().strip()

    def post(value: str):  # type: ignore[no-untyped-def]
        return http.post(lab.config.as_url + "/admin/controls", timeout=10,
                         headers={"Authorization": f"Bearer {token}"},
                         json={"params": {"risk_based_auth": {"scorer": value}}})

    missing = post("learned")
    assert missing.status_code == 400 and missing.json()["error"] == "extra_not_installed"
    assert "pip install -e '.[risk]'" in missing.json()["error_description"]
    unknown = post("neural")
    assert unknown.status_code == 400 and "one of rules, learned" in unknown.text
    assert post("rules").status_code == 200
