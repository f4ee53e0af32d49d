"""FinLens "Pay" end to end over HTTP: a payment consent through PAR with authorization_details,
the customer's confirmation at the AS, one submission, the status page, exact balances."""

from __future__ import annotations

import secrets

import pytest

from lab.domain import ledger
from lab.tpp import pay
from lab.tpp.driver import TppBrowser, user_agent
from tests.support.bank_tokens import account
from tests.support.tpp_fapi import restored_tpp_settings

CAFE = pay.PAYEES["corner-cafe"]


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _linked(lab):  # type: ignore[no-untyped-def]
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(f"payer-{secrets.token_hex(3)}")
    agent = user_agent(lab.config, lab.store, "alice")
    result = agent.authorize(browser.start_link())
    assert result.callback_url, result.params
    assert browser.deliver(result.callback_url).status_code == 303
    [link] = browser.dashboard().links
    return browser, agent, link.link_id


def _pay(lab, browser, agent, link_id, amount="25.00"):  # type: ignore[no-untyped-def]
    url = browser.start_payment(link_id, amount)
    pages: dict[str, str] = {}
    result = agent.authorize(url, on_step=lambda step, r: pages.__setitem__(step, r.text))
    assert result.callback_url, result.params
    done = browser.deliver(result.callback_url)
    assert done.status_code == 303 and done.headers["Location"].startswith("/payments/"), \
        done.text[:300]
    return pages, browser.http.get(browser.url(done.headers["Location"]))


@pytest.mark.parametrize("profile", ["fapi2-security", "legacy"])
def test_alice_pays_the_cafe_once_and_sees_the_status(lab, controls, tpp_settings, profile):
    controls.profile(profile)
    controls.registry.set({"payment_consent_binding": True})
    browser, agent, link_id = _linked(lab)
    checking = account("alice", "checking")
    before = ledger.balance_cents(lab.store, checking)
    pages, status = _pay(lab, browser, agent, link_id)
    for words in ("25.00 EUR", "Corner Café", CAFE.iban):
        assert words in pages["consent"]
    assert 'data-status="booked"' in status.text, status.text[:500]
    assert ledger.balance_cents(lab.store, checking) == before - 2500
    row = lab.store.query_one("SELECT * FROM tpp_payments WHERE status = 'booked' "
                              "ORDER BY created_at DESC LIMIT 1")
    assert row is not None and row["bank_status"] == 201


def test_a_bad_amount_never_leaves_finlens(lab, controls, tpp_settings):
    controls.profile("fapi2-security")
    browser, _, link_id = _linked(lab)
    for amount in ("-5", "0", "abc", "1e3", "25.001"):
        r = browser.http.post(browser.url(f"/pay/{link_id}"), allow_redirects=False,
                              data={"payee": "corner-cafe", "amount": amount})
        assert r.status_code == 400, (amount, r.status_code)
