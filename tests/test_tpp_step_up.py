"""FinLens's step-up (RFC 9470 §4), end to end over HTTP under fapi2-security (PAR, DPoP):
three lab days after linking, a payment gets the bank's challenge; FinLens sends alice back
to the AS with acr_values and max_age through PAR; she signs in again; the payment goes
through, once, and the balance moves by exactly its amount."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

import pytest

from lab import clock
from lab.controls import events
from lab.domain import ledger
from lab.tpp import step_up
from lab.tpp.driver import TppBrowser, link, user_agent
from tests.support.tpp_fapi import link_row, restored_tpp_settings

THREE_DAYS = 3 * 24 * 3600


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _pay(browser: TppBrowser, link_id: str, account: str, amount: str = "25.00"):  # type: ignore[no-untyped-def]
    return browser.http.post(browser.url(f"/links/{link_id}/pay"), allow_redirects=False,
                             data={"account": account, "amount": amount})


def test_a_payment_after_three_days_steps_up_and_goes_through_once(lab, controls, tpp_settings):
    controls.profile("fapi2-security")
    controls.set(step_up_for_payments=True)
    tpp_settings.set(payments="on")
    username = f"stepup-{secrets.token_hex(3)}"
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    agent = user_agent(lab.config, lab.store, "alice")
    assert link(browser, agent).status_code == 303
    row = link_row(lab, username)
    checking = ledger.account_id("alice", "checking")
    form = browser.http.get(browser.url(f"/links/{row['id']}/pay"))
    assert form.status_code == 200 and checking in form.text and "Corner Café" in form.text

    clock.advance(lab.store, THREE_DAYS)
    before = ledger.balance_cents(lab.store, checking)
    r = _pay(browser, row["id"], checking)
    assert r.status_code == 303 and r.headers["Location"].startswith(lab.config.as_url), r.text
    # RFC 9126 §4: only client_id and request_uri in the front channel; the pushed request
    # carries acr_values and max_age (the AS shows the second factor for acr_values=sca).
    assert {k for k, _ in parse_qsl(urlsplit(r.headers["Location"]).query)} == \
        {"client_id", "request_uri"}
    refused = [e for e in events.list_events(lab.store) if e.control == "step_up_for_payments"]
    assert refused and refused[0].component == "bank"
    assert ledger.balance_cents(lab.store, checking) == before

    steps: list[str] = []
    result = agent.authorize(r.headers["Location"], on_step=lambda s, _: steps.append(s))
    assert steps == ["login", "mfa", "consent"] and result.callback_url
    done = browser.deliver(result.callback_url)
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard"
    assert ledger.balance_cents(lab.store, checking) == before - 2500
    page = browser.http.get(browser.url("/dashboard")).text
    assert "Payment sent: 25.00 EUR to Corner Café" in page
    # the same link, now with the fresh authentication's tokens
    assert link_row(lab, username)["id"] == row["id"]


def test_the_challenge_is_parsed_from_either_scheme():
    got = step_up.parse_challenge(['DPoP realm="HonestBank", error="insufficient_user_'
                                   'authentication", error_description="x", '
                                   'acr_values="sca", max_age=300, algs="ES256"'])
    assert got == step_up.Challenge("sca", 300)
    assert step_up.parse_challenge(['Bearer error="invalid_token"']) is None
    odd = step_up.parse_challenge(['Bearer error="insufficient_user_authentication", '
                                   'max_age=99999999999999999999'])
    assert odd == step_up.Challenge(None, None)


def test_pending_step_ups_are_bounded_and_taken_once():
    kept: object = None
    for i in range(5):
        kept = step_up.remember(kept, f"s{i}", "link-x", {"a": i})
    assert isinstance(kept, dict) and list(kept) == ["s2", "s3", "s4"]
    found, rest = step_up.take(kept, "s4")
    assert found == {"link_id": "link-x", "body": {"a": 4}} and "s4" not in rest
    assert step_up.take(rest, "s4")[0] is None and step_up.take("junk", 3)[0] is None


def test_odd_payment_forms_get_an_answer_never_a_crash(lab, controls, tpp_settings):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    controls.profile("legacy")
    controls.set(step_up_for_payments=True)
    tpp_settings.set(payments="on")
    username = f"stepup-fuzz-{secrets.token_hex(3)}"
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    assert link(browser, user_agent(lab.config, lab.store, "alice")).status_code == 303
    link_id = link_row(lab, username)["id"]
    before = ledger.balance_cents(lab.store, ledger.account_id("alice", "checking"))
    text = st.one_of(st.text(max_size=30), st.sampled_from(
        ["-1", "0", "1e400", "25,00", "NaN", "x" * 5000, "\x00", ledger.account_id("alice",
                                                                                   "card")]))

    @settings(max_examples=30, deadline=None)
    @given(account=text, amount=text, iban=text, currency=text, link_part=st.sampled_from(
        [link_id, "link-nope", "x" * 300]))
    def answer(account: str, amount: str, iban: str, currency: str, link_part: str) -> None:
        try:
            r = browser.http.post(browser.url(f"/links/{link_part}/pay"), allow_redirects=False,
                                  data={"account": account, "amount": amount,
                                        "creditor_iban": iban, "currency": currency})
        except UnicodeEncodeError:
            return
        assert r.status_code in (303, 400, 404), (r.status_code, r.text[:300])

    answer()
    # a password-only link: every payment met the challenge (or a refusal), none moved money
    assert ledger.balance_cents(lab.store, ledger.account_id("alice", "checking")) == before
