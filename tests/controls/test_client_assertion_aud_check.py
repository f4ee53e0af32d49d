"""client_assertion_aud_check: an assertion's aud must name this AS — its issuer, or one of its
endpoint URLs unless issuer_only (RFC 7523 §3; FAPI2 §5.3.2.1; draft-ietf-oauth-rfc7523bis)."""

from __future__ import annotations

import pytest

from tests.support.oauth import assertion_params, client_assertion, push

ROGUE_AUD = "https://127.0.0.1:9448/token"    # what EvilBank asked the TPP to sign for


def _push_with_aud(http, lab, aud):
    return push(http, lab, auth=assertion_params(client_assertion(lab, aud=aud)))


def test_assertion_made_for_another_server_is_accepted_when_off(lab, controls, http, fired):
    controls.only()
    r = _push_with_aud(http, lab, ROGUE_AUD)
    assert r.status_code == 201, r.text
    assert fired(r) == []


def test_assertion_made_for_another_server_is_refused_with_invalid_client_when_on(
        lab, controls, http, fired):
    controls.only("client_assertion_aud_check")
    r = _push_with_aud(http, lab, ROGUE_AUD)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.headers["Cache-Control"] == "no-store"
    assert fired(r) == ["client_assertion_aud_check"]


@pytest.mark.parametrize("aud", ["issuer", "issuer-list", "/token", "/par"])
def test_this_as_is_accepted_as_audience_when_on(lab, controls, http, fired, aud):
    controls.only("client_assertion_aud_check")
    value = {"issuer": lab.config.issuer, "issuer-list": [lab.config.issuer, ROGUE_AUD]}.get(
        aud, lab.config.issuer + aud)
    r = _push_with_aud(http, lab, value)
    assert r.status_code == 201, r.text
    assert fired(r) == []


def test_missing_audience_is_refused_when_on(lab, controls, http, fired):
    controls.only("client_assertion_aud_check")
    r = _push_with_aud(http, lab, None)
    assert r.status_code == 401 and fired(r) == ["client_assertion_aud_check"]


def test_issuer_only_refuses_the_honest_token_endpoint_url(lab, controls, http, fired):
    # The audience-injection attack: a rogue AS names the honest token endpoint as its own,
    # so the assertion the TPP signs for it is valid here unless only the issuer counts.
    controls.only("client_assertion_aud_check")
    assert _push_with_aud(http, lab, lab.config.issuer + "/token").status_code == 201
    controls.param("client_assertion_aud_check", "issuer_only", True)
    r = _push_with_aud(http, lab, lab.config.issuer + "/token")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["client_assertion_aud_check"]
    assert _push_with_aud(http, lab, lab.config.issuer).status_code == 201


def test_token_endpoint_checks_the_audience_too(lab, controls, http, fired):
    controls.only("client_assertion_aud_check")
    r = http.post(lab.config.as_url + "/token", data={
        "grant_type": "refresh_token", "refresh_token": "unknown",
        **assertion_params(client_assertion(lab, aud=ROGUE_AUD))})
    assert r.status_code == 401 and fired(r) == ["client_assertion_aud_check"]
