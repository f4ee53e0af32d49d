"""iss_response_param (enabler): every authorization response, success or error, carries
iss = the issuer (RFC 9207 §2), and discovery says so (§3). It refuses nothing."""

from __future__ import annotations

import pytest

from tests.support.oauth import authorization_url, par_authorization_url, push, run, victim


def _metadata(http, lab):
    return http.get(lab.config.as_url + "/.well-known/openid-configuration").json()


@pytest.mark.parametrize("on", [False, True])
def test_success_response_carries_iss_only_when_on(lab, controls, http, fired, on):
    controls.only("iss_response_param") if on else controls.only()
    result = run(lab)
    assert result.code
    assert result.params.get("iss") == (lab.config.issuer if on else None)
    assert fired(result.response) == []


@pytest.mark.parametrize("on", [False, True])
def test_denied_response_carries_iss_only_when_on(lab, controls, on):
    controls.only("iss_response_param") if on else controls.only()
    result = victim(lab, approve=False).authorize(
        authorization_url(lab))
    assert result.error == "access_denied"
    assert result.params.get("iss") == (lab.config.issuer if on else None)


@pytest.mark.parametrize("on", [False, True])
def test_validation_error_redirect_carries_iss_only_when_on(lab, controls, on):
    controls.only("pkce_required", "iss_response_param") if on else controls.only("pkce_required")
    result = run(lab)       # no code_challenge: refused at the redirect_uri
    assert result.response.status_code == 302 and result.error == "invalid_request"
    assert result.params.get("iss") == (lab.config.issuer if on else None)


def test_pushed_request_response_carries_iss_when_on(lab, controls, http):
    controls.only("par_required", "iss_response_param")
    r = push(http, lab)
    result = victim(lab).authorize(par_authorization_url(lab, r.json()["request_uri"]))
    assert result.code and result.params["iss"] == lab.config.issuer
    assert result.state  # the pushed state comes back next to iss


def test_iss_appears_once_and_in_the_fragment_for_fragment_responses(lab, controls):
    controls.only("iss_response_param")
    result = run(lab, response_type="code id_token", scope="openid")
    assert result.callback_url and "#" in result.callback_url
    fragment = result.callback_url.split("#", 1)[1]
    assert fragment.count("iss=") == 1 and "iss=" not in result.callback_url.split("#")[0]


def test_discovery_advertises_iss_only_when_on(lab, controls, http):
    controls.only()
    assert "authorization_response_iss_parameter_supported" not in _metadata(http, lab)
    controls.only("iss_response_param")
    assert _metadata(http, lab)["authorization_response_iss_parameter_supported"] is True
