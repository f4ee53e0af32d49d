"""code_short_lifetime: codes expire after 60 s (FAPI2 §5.3.2.1); 10 minutes is the ceiling
always (RFC 6749 §4.1.2)."""

import pytest

from lab import clock
from tests.support.oauth import authorize, redeem


def test_two_minute_old_code_is_redeemed_when_off(lab, controls, http):
    controls.only()
    code, _ = authorize(lab, pkce=False)
    clock.advance(lab.store, 120)
    assert redeem(http, lab, code).status_code == 200


def test_two_minute_old_code_is_refused_with_invalid_grant_when_on(lab, controls, http, fired):
    controls.only("code_short_lifetime")
    code, _ = authorize(lab, pkce=False)
    clock.advance(lab.store, 120)
    r = redeem(http, lab, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["code_short_lifetime"]


def test_fresh_code_is_redeemed_when_on(lab, controls, http):
    controls.only("code_short_lifetime")
    code, _ = authorize(lab, pkce=False)
    clock.advance(lab.store, 30)
    assert redeem(http, lab, code).status_code == 200


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_code_older_than_ten_minutes_is_refused_in_every_profile_without_event(
        lab, controls, http, fired, profile):
    controls.profile(profile)
    code, verifier = authorize(lab)
    clock.advance(lab.store, 601)
    r = redeem(http, lab, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == []
