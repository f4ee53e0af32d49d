"""pkce_required: an authorization request without code_challenge is refused (RFC 7636 §4.4.1);
a stored challenge is always verified at the token endpoint (§4.6)."""

from tests.support.oauth import authorize, pkce_pair, redeem, run


def test_request_without_challenge_gets_a_code_redeemable_without_verifier_when_off(
        lab, controls, http):
    controls.only()
    code, _ = authorize(lab, pkce=False)
    assert redeem(http, lab, code).status_code == 200


def test_request_without_challenge_is_refused_with_invalid_request_when_on(lab, controls, fired):
    controls.only("pkce_required")
    result = run(lab)
    # RFC 6749 §4.1.2.1: the error goes back to the (validated) redirect_uri.
    assert result.response.status_code == 302
    assert result.error == "invalid_request" and result.code is None
    assert fired(result.response) == ["pkce_required"]


def test_request_with_challenge_passes_when_on(lab, controls, http):
    controls.only("pkce_required")
    code, verifier = authorize(lab)
    assert redeem(http, lab, code, verifier).status_code == 200


def test_missing_verifier_for_a_code_with_challenge_is_refused_even_when_off(
        lab, controls, http, fired):
    """Off means a challenge is not required; one that was sent is still verified (RFC 7636
    §4.6), and the event names that always-on check, not the switched-off control."""
    controls.only()
    code, _ = authorize(lab)
    r = redeem(http, lab, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert fired(r) == ["pkce_verification"]


def test_wrong_verifier_when_off_is_refused_by_the_always_on_verification(
        lab, controls, http, fired):
    controls.only()
    code, verifier = authorize(lab)
    wrong, _ = pkce_pair()
    r = redeem(http, lab, code, wrong)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["pkce_verification"]
    assert redeem(http, lab, code, verifier).status_code == 200


def test_wrong_verifier_is_refused_with_invalid_grant_and_the_code_stays_usable(
        lab, controls, http, fired):
    controls.only("pkce_required")
    code, verifier = authorize(lab)
    wrong, _ = pkce_pair()
    r = redeem(http, lab, code, wrong)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["pkce_required"]
    assert redeem(http, lab, code, verifier).status_code == 200
