"""FinLens end to end over TLS: link HonestBank as alice with some accounts, see exactly those,
refresh on expiry, show the link as revoked when alice revokes the grant, unlink (RFC 7009)."""

from __future__ import annotations

from decimal import Decimal

import jwt
import pytest

from lab import clock, context
from lab.domain import consent, ledger
from lab.domain.revocation import revoke_grant
from lab.tpp.driver import TppBrowser, link, user_agent

SHARED = ("checking", "brokerage")


@pytest.fixture
def linked(lab, controls):  # type: ignore[no-untyped-def]
    controls.profile("fapi2-security")
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in("alice-e2e")
    r = link(b, user_agent(lab.config, lab.store, "alice", accounts=SHARED))
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    return b


def _access_token(lab, username):  # type: ignore[no-untyped-def]
    row = lab.store.query_one("SELECT l.access_token FROM tpp_links l JOIN tpp_users u "
                              "ON u.id = l.user_id WHERE u.username = ?", (username,))
    return row["access_token"]


def _grant_id(lab, username):  # type: ignore[no-untyped-def]
    token = _access_token(lab, username)
    return jwt.decode(token, options={"verify_signature": False})["grant_id"]


def test_dashboard_shows_exactly_the_shared_accounts_and_their_balances(lab, linked):
    page = linked.dashboard()
    [honest] = page.links
    assert (honest.institution, honest.status) == ("honestbank", "active")
    expected = {a["id"]: a for a in ledger.accounts_of(lab.store, "alice") if a["type"] in SHARED}
    assert {a.account_id for a in honest.accounts} == set(expected)
    for row in honest.accounts:
        cents = ledger.balance_cents(lab.store, row.account_id)
        assert Decimal(row.balance) == Decimal(cents) / 100
        assert row.name == expected[row.account_id]["name"]
    assert Decimal(page.totals["EUR"]) == sum(Decimal(a.balance) for a in honest.accounts)
    assert 0 < page.transactions <= 10 * len(SHARED)


def test_expired_access_token_is_refreshed_by_the_lab_clock(lab, linked):
    before = _access_token(lab, "alice-e2e")
    clock.advance(lab.store, 3600)
    [honest] = linked.dashboard().links
    assert honest.status == "active" and len(honest.accounts) == len(SHARED)
    assert _access_token(lab, "alice-e2e") != before


def test_revoked_grant_shows_the_link_as_revoked_with_relink(lab, linked):
    with context.bound(lab.store, "bank"):
        assert revoke_grant(lab.store, _grant_id(lab, "alice-e2e"))
    page = linked.http.get(lab.config.tpp_url + "/dashboard").text
    [honest] = linked.dashboard().links
    assert honest.status == "revoked" and honest.accounts == []
    assert 'data-testid="relink"' in page
    relink = linked.http.post(f"{lab.config.tpp_url}/links/{honest.link_id}/relink",
                              allow_redirects=False)
    assert relink.status_code == 303 and "/authorize?" in relink.headers["Location"]


def test_unlink_revokes_at_the_authorization_server(lab, linked):
    grant_id = _grant_id(lab, "alice-e2e")
    [honest] = linked.dashboard().links
    r = linked.http.post(f"{lab.config.tpp_url}/links/{honest.link_id}/unlink",
                         allow_redirects=False)
    assert r.status_code == 303
    assert linked.dashboard().links == []
    tokens = lab.store.query("SELECT revoked FROM refresh_tokens WHERE grant_id = ?",
                             (grant_id,))
    assert tokens and all(t["revoked"] for t in tokens)
    assert consent.get_grant(lab.store, grant_id) is not None


def test_guest_links_without_signing_in(lab, controls):
    controls.profile("fapi2-security")
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    assert link(b, user_agent(lab.config, lab.store, "bob")).status_code == 303
    page = b.http.get(lab.config.tpp_url + "/dashboard").text
    assert 'data-testid="current-user">guest-' in page
    assert b.dashboard().links[0].accounts
