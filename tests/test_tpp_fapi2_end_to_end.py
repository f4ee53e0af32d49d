"""FinLens as a FAPI 2.0 client, end to end: PAR + private_key_jwt + DPoP (the fapi2-security
defaults), and tls_client_auth + certificate-bound tokens (the mTLS alternative)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from lab import clock, pki
from lab.controls import events
from lab.domain import ledger
from lab.tpp import institutions, keyring, session
from lab.tpp.driver import TppBrowser, user_agent
from tests.support.tpp_fapi import claims, link_row, require_as, restored_tpp_settings

SHARED = ("checking", "savings")


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _link_and_read(lab, username):  # type: ignore[no-untyped-def]
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    authorization_url = browser.start_link()
    result = user_agent(lab.config, lab.store, "alice", accounts=SHARED).authorize(
        authorization_url)
    assert result.callback_url, result.params
    r = browser.deliver(result.callback_url)
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard", r.text[:300]
    [honest] = browser.dashboard().links
    assert honest.status == "active"
    expected = {a["id"] for a in ledger.accounts_of(lab.store, "alice") if a["type"] in SHARED}
    assert {a.account_id for a in honest.accounts} == expected
    for row in honest.accounts:
        assert Decimal(row.balance) == Decimal(ledger.balance_cents(lab.store,
                                                                    row.account_id)) / 100
    return authorization_url, link_row(lab, username)


def test_links_honestbank_with_par_private_key_jwt_and_dpop_and_reads_balances(
        lab, controls, tpp_settings, http):
    controls.profile("fapi2-security")
    require_as(lab, "pushed_authorization_request_endpoint", "dpop_signing_alg_values_supported")
    settings_page = http.get(lab.config.tpp_url + "/settings").text
    assert "private_key_jwt" in settings_page and "pushed, RFC 9126" in settings_page
    url, row = _link_and_read(lab, f"fapi2-dpop-{secrets.token_hex(3)}")
    # FAPI2 §5.3.3.1 / RFC 9126 §4: only client_id and request_uri in the front channel.
    assert {k for k, _ in parse_qsl(urlsplit(url).query)} == {"client_id", "request_uri"}
    assert row["token_type"].lower() == "dpop"
    honest = institutions.get(lab.store, "honestbank")
    assert claims(row["access_token"])["cnf"]["jkt"] == session.dpop_signer(lab.config,
                                                                             honest).jkt


def test_links_honestbank_with_tls_client_auth_and_certificate_bound_tokens(
        lab, controls, tpp_settings):
    tpp_settings.set(client_auth="tls_client_auth", sender_constraint="mtls")
    controls.profile("fapi2-security")
    require_as(lab, "pushed_authorization_request_endpoint",
               "tls_client_certificate_bound_access_tokens")
    _, row = _link_and_read(lab, f"fapi2-mtls-{secrets.token_hex(3)}")
    assert row["token_type"].lower() == "bearer"
    cert, _ = keyring.client_certificate(lab.config, institutions.get(lab.store, "honestbank"))
    with open(cert, "rb") as handle:
        assert claims(row["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint_s256(
            handle.read())


def test_extras_nonces_are_echoed_at_par_token_and_bank_and_refresh_keeps_the_binding(
        lab, controls, tpp_settings):
    """RFC 9449 §8, §9 / FAPI2 §5.3.3.1: the AS and the bank demand nonces; FinLens retries
    once with each server's DPoP-Nonce, and a refresh (lab clock + 1 h) stays DPoP-bound."""
    controls.profile("fapi2-security+extras")
    require_as(lab, "pushed_authorization_request_endpoint", "dpop_signing_alg_values_supported")
    username = f"fapi2-nonce-{secrets.token_hex(3)}"
    before = max((e.id or 0 for e in events.list_events(lab.store, limit=100000)), default=0)
    _, row = _link_and_read(lab, username)
    asked = {e.component for e in events.list_events(lab.store, control="dpop_nonce",
                                                     since_id=before)}
    assert asked == {"as", "bank"}      # both refused a proof without nonce, then accepted
    honest = institutions.get(lab.store, "honestbank")
    jkt = session.dpop_signer(lab.config, honest).jkt
    assert keyring.dpop_owner(honest) == "tpp-dpop-honestbank"      # tpp_per_as_keys
    assert claims(row["access_token"])["cnf"]["jkt"] == jkt

    clock.advance(lab.store, 3600)
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    [link] = browser.dashboard().links
    assert link.status == "active" and link.accounts
    refreshed = link_row(lab, username)
    assert refreshed["access_token"] != row["access_token"]
    assert claims(refreshed["access_token"])["cnf"]["jkt"] == jkt


def test_an_outside_institution_is_added_by_issuer_and_shown_on_the_settings_page(
        lab, controls, tpp_settings, http):
    controls.profile("fapi2-security")
    inst = institutions.add_institution(lab.store, "mirror", "Mirror AS", lab.config.issuer,
                                        lab.config.bank_url, client_id="tpp",
                                        ca_path=str(lab.config.ca_cert_path))
    try:
        assert institutions.get(lab.store, "mirror") == inst
        page = http.get(lab.config.tpp_url + "/settings").text
        assert 'data-institution="mirror"' in page and "DPoP key (jkt, RFC 7638)" in page
        with pytest.raises(ValueError):
            institutions.add_institution(lab.store, "Bad Id", "x", "http://as", "https://api")
    finally:
        lab.store.execute("DELETE FROM tpp_institutions WHERE id = 'mirror'")
        institutions.forget_metadata()
