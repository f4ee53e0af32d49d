"""request_uri_single_use: a request_uri is consumed at first use and lives 60 s
(RFC 9126 §4; FAPI2 §5.3.2.2 note 3, §6.4). Off: reusable for 590 s."""

from __future__ import annotations

import pytest

from lab import clock
from tests.support.oauth import par_authorization_url, push, victim


def _pushed_uri(http, lab):
    r = push(http, lab)
    assert r.status_code == 201, r.text
    return r.json()["request_uri"], r.json()["expires_in"]


def _load(http, lab, url):
    """Open the authorization URL in a fresh browser: the login page, or an error."""
    return http.get(url, allow_redirects=False)


def test_leaked_request_uri_can_be_opened_again_when_off(lab, controls, http, fired):
    controls.only()
    uri, expires_in = _pushed_uri(http, lab)
    assert expires_in == 590
    url = par_authorization_url(lab, uri)
    assert _load(http, lab, url).status_code == 200          # the victim's login page
    second = victim(lab, username="mallory").authorize(url)  # the attacker opens it too
    assert second.code, second.params
    assert fired(second.response) == []


def test_leaked_request_uri_is_refused_with_invalid_request_uri_when_on(
        lab, controls, http, fired):
    controls.only("request_uri_single_use")
    uri, expires_in = _pushed_uri(http, lab)
    assert expires_in == 60
    url = par_authorization_url(lab, uri)
    assert _load(http, lab, url).status_code == 200
    second = _load(http, lab, url)
    # Not a redirect: the request_uri is unusable, so there is no validated redirect_uri.
    assert second.status_code == 400 and "Location" not in second.headers
    assert second.json()["error"] == "invalid_request_uri"
    assert second.headers["Cache-Control"] == "no-store"
    assert fired(second) == ["request_uri_single_use"]


def test_browser_gets_the_error_page_when_on(lab, controls, http, fired):
    controls.only("request_uri_single_use")
    url = par_authorization_url(lab, _pushed_uri(http, lab)[0])
    _load(http, lab, url)
    page = http.get(url, headers={"Accept": "text/html"}, allow_redirects=False)
    assert page.status_code == 400 and "invalid_request_uri" in page.text
    assert fired(page) == ["request_uri_single_use"]


def test_request_uri_works_after_a_minute_when_off(lab, controls, http, fired):
    controls.only()
    url = par_authorization_url(lab, _pushed_uri(http, lab)[0])
    clock.advance(lab.store, 61)
    r = _load(http, lab, url)
    assert r.status_code == 200 and fired(r) == []


def test_request_uri_older_than_a_minute_is_refused_when_on(lab, controls, http, fired):
    controls.only("request_uri_single_use")
    url = par_authorization_url(lab, _pushed_uri(http, lab)[0])
    clock.advance(lab.store, 61)
    r = _load(http, lab, url)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri"
    assert fired(r) == ["request_uri_single_use"]


@pytest.mark.parametrize("on", [False, True])
def test_request_uri_older_than_590_s_is_refused_in_every_profile_without_event(
        lab, controls, http, fired, on):
    controls.only("request_uri_single_use") if on else controls.only()
    url = par_authorization_url(lab, _pushed_uri(http, lab)[0])
    clock.advance(lab.store, 591)
    r = _load(http, lab, url)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri"
    assert fired(r) == []


def _race(http, lab, url):
    """Victim A reaches consent; meanwhile B (who opened the same URL) finishes first."""
    seen = {}

    def on_step(step, response):
        if step == "consent" and "b" not in seen:
            seen["b"] = victim(lab, username="mallory").authorize(url)

    a = victim(lab).authorize(url, on_step=on_step)
    return a, seen["b"]


def test_consume_at_authorization_lets_both_browsers_finish_when_off(lab, controls, http):
    controls.only()
    controls.param("request_uri_single_use", "consume_at", "authorization")
    a, b = _race(http, lab, par_authorization_url(lab, _pushed_uri(http, lab)[0]))
    assert a.code and b.code


def test_consume_at_authorization_refuses_the_second_response_when_on(
        lab, controls, http, fired):
    controls.only("request_uri_single_use")
    controls.param("request_uri_single_use", "consume_at", "authorization")
    a, b = _race(http, lab, par_authorization_url(lab, _pushed_uri(http, lab)[0]))
    assert b.code, b.params
    # The first browser to get its authorization response wins; A sees the error page.
    assert a.code is None and a.response.status_code == 400
    assert a.error == "invalid_request_uri"
    assert fired(a.response) == ["request_uri_single_use"]


def test_consume_at_authorization_allows_a_reload_before_the_response(
        lab, controls, http):
    controls.only("request_uri_single_use")
    controls.param("request_uri_single_use", "consume_at", "authorization")
    url = par_authorization_url(lab, _pushed_uri(http, lab)[0])
    assert _load(http, lab, url).status_code == 200
    assert victim(lab).authorize(url).code
