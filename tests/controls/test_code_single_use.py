"""code_single_use: a second redemption is refused and the first one's tokens are revoked
(RFC 6749 §4.1.2)."""

from lab.domain import consent
from tests.support.oauth import authorize, claims, redeem, refresh


def test_code_can_be_redeemed_twice_when_off(lab, controls, http):
    controls.only()
    code, _ = authorize(lab, pkce=False)
    first, second = redeem(http, lab, code), redeem(http, lab, code)
    assert first.status_code == second.status_code == 200
    assert first.json()["access_token"] != second.json()["access_token"]


def test_second_redemption_is_refused_and_first_tokens_revoked_when_on(lab, controls, http, fired):
    controls.only("code_single_use")
    code, _ = authorize(lab, pkce=False)
    first = redeem(http, lab, code)
    assert first.status_code == 200
    replay = redeem(http, lab, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert fired(replay) == ["code_single_use"]
    jti = claims(first.json()["access_token"])["jti"]
    assert consent.access_token_status(lab.store, jti)["revoked"] == 1
    assert refresh(http, lab, first.json()["refresh_token"]).status_code == 400


def test_a_failed_redemption_does_not_consume_the_code(lab, controls, http):
    controls.only("code_single_use", "pkce_required")
    code, verifier = authorize(lab)
    assert redeem(http, lab, code).status_code == 400           # no verifier
    assert redeem(http, lab, code, verifier).status_code == 200
