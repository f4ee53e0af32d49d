"""code_short_lifetime: codes expire after 60 s (FAPI2 §5.3.2.1); 10 minutes is the ceiling
always (RFC 6749 §4.1.2)."""

import pytest

from lab import clock
from tests.support import dpop
from tests.support.oauth import authorize, authorize_pushed, redeem


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
    if profile == "fapi2-security":
        # As a FAPI 2.0 client: PAR, then private_key_jwt and a DPoP proof at the token endpoint.
        code, verifier = authorize_pushed(http, lab)
        clock.advance(lab.store, 601)
        r = dpop.redeem(http, lab, dpop.DPoPKey(lab), code, verifier,
                        client_auth=dpop.tpp_assertion(lab))
    else:
        code, verifier = authorize(lab)
        clock.advance(lab.store, 601)
        r = redeem(http, lab, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == []
