"""pkce_downgrade_check: a code_verifier for a code issued without challenge is refused
(BCP §2.1.1, §4.8.2)."""

from tests.support.oauth import authorize, pkce_pair, redeem


def test_verifier_is_ignored_for_a_code_without_challenge_when_off(lab, controls, http):
    controls.only()
    code, _ = authorize(lab, pkce=False)
    verifier, _ = pkce_pair()
    assert redeem(http, lab, code, verifier).status_code == 200


def test_verifier_for_a_code_without_challenge_is_refused_with_invalid_grant_when_on(
        lab, controls, http, fired):
    controls.only("pkce_downgrade_check")
    code, _ = authorize(lab, pkce=False)
    verifier, _ = pkce_pair()
    r = redeem(http, lab, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["pkce_downgrade_check"]
    # Refused, not consumed: the honest redemption (no verifier) still works.
    assert redeem(http, lab, code).status_code == 200
