"""The bank's "connected apps" page: sign in with a second factor, see grants, revoke one."""

from __future__ import annotations

import re

import pytest
import requests

from lab.domain import consent, customers
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys, mint

ALICE_TOTP = next(u.totp_secret for u in customers.DEMO_USERS if u.username == "alice")


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _url(lab: RunningLab, path: str) -> str:
    return lab.config.bank_url + path


def sign_in(lab: RunningLab, http: requests.Session, username: str = "alice",
            password: str = "wonderland") -> requests.Response:
    page = http.get(_url(lab, "/login"))
    r = http.post(_url(lab, "/login"), data={"username": username, "password": password,
                                             "csrf_token": _csrf(page.text)})
    assert r.status_code == 200 and "Confirm it is you" in r.text, r.text
    if username == "bob":
        code = customers.sms_inbox(lab.store, 1)[0]["code"]
    else:
        code = customers.totp_now(ALICE_TOTP or "")
    return http.post(_url(lab, "/login/code"), data={"code": code, "csrf_token": _csrf(r.text)})


def test_connected_apps_needs_sign_in(lab, http):
    r = http.get(_url(lab, "/connected-apps"), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/login")


def test_wrong_password_stays_on_the_login_page(lab, http):
    page = http.get(_url(lab, "/login"))
    r = http.post(_url(lab, "/login"), data={"username": "alice", "password": "nope",
                                             "csrf_token": _csrf(page.text)})
    assert r.status_code == 401 and "Wrong username or password" in r.text


def test_login_without_csrf_token_is_refused(lab, http):
    http.get(_url(lab, "/login"))
    r = http.post(_url(lab, "/login"), data={"username": "alice", "password": "wonderland"})
    assert r.status_code == 400


def test_wrong_codes_five_times_start_over(lab, http):
    page = http.get(_url(lab, "/login"))
    r = http.post(_url(lab, "/login"), data={"username": "alice", "password": "wonderland",
                                             "csrf_token": _csrf(page.text)})
    for _ in range(5):
        r = http.post(_url(lab, "/login/code"), data={"code": "000000",
                                                      "csrf_token": _csrf(r.text)})
    assert "Too many wrong codes" in r.text and "Sign in to online banking" in r.text


def test_page_lists_apps_in_plain_words(lab, http):
    minted = mint(lab, accounts={account("alice", "checking"): ["balances", "payments"]})
    r = sign_in(lab, http)
    assert r.status_code == 200
    assert "Connected apps" in r.text and str(minted.grant_id) in r.text
    assert "Everyday Checking" in r.text
    assert "See the balance of this account" in r.text
    assert "Initiate payments from this account" in r.text
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert "<script" not in r.text and "http://" not in r.text


def test_revoking_an_app_stops_its_token_at_once(lab, controls, http):
    controls.only("at_revocation_check")
    minted = mint(lab)
    api = requests.Session()
    api.verify = str(lab.config.ca_cert_path)
    api.trust_env = False  # else $REQUESTS_CA_BUNDLE overrides verify
    assert api.get(_url(lab, "/accounts"), headers=bearer(minted.token)).status_code == 200
    page = sign_in(lab, http)
    r = http.post(_url(lab, "/connected-apps/revoke"),
                  data={"grant_id": minted.grant_id, "csrf_token": _csrf(page.text)})
    assert r.status_code == 200 and "is revoked" in r.text
    assert minted.grant_id not in r.text
    grant = consent.get_grant(lab.store, minted.grant_id or "")
    assert grant is not None and not grant["active"]
    # "can no longer access" only when no other link of the app is left (other tests link it)
    left = [g for g in consent.grants_of(lab.store, "alice")
            if g["client_id"] == grant["client_id"]]
    assert ("can no longer access your accounts" in r.text) == (not left)
    assert api.get(_url(lab, "/accounts"), headers=bearer(minted.token)).status_code == 401


def test_revoke_without_the_session_csrf_token_is_refused(lab, http):
    minted = mint(lab)
    sign_in(lab, http)
    r = http.post(_url(lab, "/connected-apps/revoke"),
                  data={"grant_id": minted.grant_id, "csrf_token": "forged"})
    assert r.status_code == 400
    assert consent.get_grant(lab.store, minted.grant_id or "")["active"]  # type: ignore[index]


def test_another_customers_grant_cannot_be_revoked(lab, http):
    bobs = mint(lab, username="bob", accounts={account("bob", "checking"): ["balances"]})
    page = sign_in(lab, http)
    r = http.post(_url(lab, "/connected-apps/revoke"),
                  data={"grant_id": bobs.grant_id, "csrf_token": _csrf(page.text)})
    assert r.status_code == 404
    assert consent.get_grant(lab.store, bobs.grant_id or "")["active"]  # type: ignore[index]


def test_bob_signs_in_with_the_sms_code(lab, http):
    bobs = mint(lab, username="bob", accounts={account("bob", "savings"): ["transactions"]})
    r = sign_in(lab, http, "bob", "canwefixit")
    assert r.status_code == 200 and str(bobs.grant_id) in r.text and "Rainy Day Savings" in r.text


def test_logout_ends_the_session(lab, http):
    page = sign_in(lab, http)
    r = http.post(_url(lab, "/logout"), data={"csrf_token": _csrf(page.text)})
    assert "You are signed out" in r.text
    r = http.get(_url(lab, "/connected-apps"), allow_redirects=False)
    assert r.status_code == 303


def test_a_customer_linked_many_times_gets_pages_of_bounded_size(lab, http):
    """A matrix job's alice collects a link per run; listing them all outgrew the capture
    proxy's body limit at some 1,200 links (its 502 instead of her page). One page holds
    APPS_PER_PAGE cards, newest first, numbered over all her links of that app."""
    from lab.bank.web import APPS_PER_PAGE

    made = [consent.create_grant(lab.store, username="alice", client_id="tpp",
                                 scope="accounts:read",
                                 accounts={account("alice", "checking"): ["balances"]})
            for _ in range(2 * APPS_PER_PAGE + 3)]
    first = sign_in(lab, http)
    assert first.status_code == 200 and first.text.count('<div class="card">') == APPS_PER_PAGE
    grants = consent.grants_of(lab.store, "alice")
    # the newest card is the store's newest grant, whichever app (another test of the session
    # may have left one dated at a lab time it moved ahead to), numbered over that app's links
    newest_app = grants[0]["client_id"]
    total, links = len(grants), sum(g["client_id"] == newest_app for g in grants)
    top = first.text.split('<div class="card">')[1]
    assert grants[0]["id"] in top and f"link {links} of {links}" in top
    assert f"of {total}, newest first" in first.text and "older links" in first.text
    pages = -(-total // APPS_PER_PAGE)
    last = http.get(_url(lab, f"/connected-apps?page={pages}"))
    assert last.status_code == 200 and "newer links" in last.text
    assert last.text.count('<div class="card">') == total - (pages - 1) * APPS_PER_PAGE
    assert made[-1] not in last.text
    for odd in ("0", "-3", "abc", "9" * 40):     # no such page: the nearest, never a 500
        page = http.get(_url(lab, "/connected-apps"), params={"page": odd})
        assert page.status_code == 200 and "Connected apps" in page.text
    assert len(first.content) < 64 * 1024
