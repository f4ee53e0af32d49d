"""pkce_s256_only: only code_challenge_method=S256 (RFC 7636 §4.2; FAPI2 §5.3.2.2)."""

import secrets

import pytest

from tests.support.oauth import authorize, redeem, run


def test_plain_challenge_is_accepted_and_its_verifier_is_the_challenge_when_off(
        lab, controls, http):
    controls.only()
    verifier = secrets.token_urlsafe(48)
    code, _ = authorize(lab, code_challenge=verifier, code_challenge_method="plain")
    assert redeem(http, lab, code, verifier).status_code == 200


@pytest.mark.parametrize("method", ["plain", None])
def test_non_s256_challenge_is_refused_with_invalid_request_when_on(lab, controls, fired, method):
    controls.only("pkce_s256_only")
    result = run(lab, code_challenge=secrets.token_urlsafe(48), code_challenge_method=method)
    assert result.response.status_code == 302
    assert result.error == "invalid_request"
    assert fired(result.response) == ["pkce_s256_only"]


def test_s256_is_accepted_when_on(lab, controls, http):
    controls.only("pkce_s256_only")
    code, verifier = authorize(lab)
    assert redeem(http, lab, code, verifier).status_code == 200


def test_discovery_advertises_only_s256_when_on(lab, controls, http):
    url = lab.config.as_url + "/.well-known/openid-configuration"
    controls.only()
    assert http.get(url).json()["code_challenge_methods_supported"] == ["S256", "plain"]
    controls.only("pkce_s256_only")
    assert http.get(url).json()["code_challenge_methods_supported"] == ["S256"]
