"""tpp_no_open_redirect: /go keeps to partner origins and forwards no parameters (BCP §4.11.1)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

ATTACKER = "https://127.0.0.1:9446/steal"
PARTNER = "https://127.0.0.1:9447/offers"


def go(lab, http, **params):  # type: ignore[no-untyped-def]
    return http.get(lab.config.tpp_url + "/go?" + urlencode(params), allow_redirects=False)


def test_open_redirector_forwards_the_code_to_the_attacker_when_off(lab, controls, http, fired):
    controls.only()
    r = go(lab, http, url=ATTACKER, code="code-V", state="s")
    assert r.status_code == 302
    assert r.headers["Location"] == ATTACKER + "?code=code-V&state=s"
    assert fired(r) == []


@pytest.mark.parametrize("params, why", [
    ({"url": ATTACKER}, "not a partner"),
    ({"url": ATTACKER, "code": "code-V", "state": "s"}, "not a partner"),
    ({"url": PARTNER, "code": "code-V"}, "forwards no parameters"),
    ({"url": "https://127.0.0.1:9447.evil.example/offers"}, "not a partner"),
    ({"url": "javascript:alert(1)"}, "not a partner"),
])
def test_redirect_off_the_allow_list_is_refused_when_on(lab, controls, http, fired, params, why):
    controls.only("tpp_no_open_redirect")
    r = go(lab, http, **params)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert "Location" not in r.headers
    assert fired(r) == ["tpp_no_open_redirect"]
    from lab.controls import events

    reasons = [e.reason for e in events.list_events(lab.store, control="tpp_no_open_redirect")]
    assert why in reasons[-1]


def test_partner_offer_still_redirects_when_on(lab, controls, http, fired):
    controls.only("tpp_no_open_redirect")
    r = go(lab, http, url=PARTNER)
    assert r.status_code == 302
    assert r.headers["Location"] == PARTNER
    assert fired(r) == []
