"""refresh_rotation_reuse_detection: a new refresh token per refresh; a superseded one revokes
the family (BCP §4.14.2)."""

from tests.support.oauth import refresh, tokens


def test_same_refresh_token_is_returned_and_keeps_working_when_off(lab, controls, http):
    controls.only()
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    first = refresh(http, lab, rt)
    assert first.status_code == 200 and first.json()["refresh_token"] == rt
    assert refresh(http, lab, rt).status_code == 200


def test_superseded_refresh_token_is_refused_and_revokes_the_family_when_on(
        lab, controls, http, fired):
    controls.only("refresh_rotation_reuse_detection")
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    first = refresh(http, lab, rt)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != rt
    reuse = refresh(http, lab, rt)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert fired(reuse) == ["refresh_rotation_reuse_detection"]
    # The family is gone: the legitimate holder of the rotated token is refused too.
    after = refresh(http, lab, rotated)
    assert after.status_code == 400 and fired(after) == ["refresh_rotation_reuse_detection"]
