"""mfa_required: a second factor at login; password-only paths, ROPC included, refused
(PSD2 Art. 97; RTS Art. 4)."""

from lab.domain import customers
from tests.support.oauth import (
    authorization_url,
    credentials,
    par_authorization_url,
    pkce_pair,
    push,
    register,
    victim,
)


def steps_of(lab, username="alice"):
    seen = []
    result = victim(lab, username=username).authorize(
        authorization_url(lab), on_step=lambda step, _r: seen.append(step))
    return seen, result


def test_password_alone_signs_in_when_off(lab, controls):
    controls.only()
    seen, result = steps_of(lab)
    assert seen == ["login", "consent"] and result.code


def test_login_asks_for_a_totp_and_a_wrong_code_is_refused_when_on(lab, controls, http, fired):
    controls.only("mfa_required")
    ua = victim(lab)
    page = ua.authorize(authorization_url(lab), stop_before="mfa")
    assert page.stopped_at == "mfa"
    pending = page.response.text.split('name="pending" value="')[1].split('"')[0]
    r = ua.session.post(lab.config.as_url + "/mfa", data={"pending": pending, "code": "000000"})
    assert r.status_code == 401 and "not valid" in r.text
    assert fired(r) == ["mfa_required"]


def test_correct_totp_signs_alice_in_when_on(lab, controls):
    controls.only("mfa_required")
    seen, result = steps_of(lab)
    assert seen == ["login", "mfa", "consent"] and result.code


def test_bob_gets_an_sms_code_when_on(lab, controls, http):
    controls.only("mfa_required")
    seen, result = steps_of(lab, username="bob")
    assert seen == ["login", "mfa", "consent"] and result.code
    inbox = customers.sms_inbox(lab.store, 1)[0]
    assert inbox["username"] == "bob" and inbox["used"] == 1
    assert "/lab/sms" in http.get(lab.config.as_url + "/lab/sms").url


def test_password_grant_is_refused_with_invalid_grant_when_on(lab, controls, http, fired):
    controls.only()
    client = credentials(register(http, lab, grant_types=["password"], redirect_uris=[]))
    controls.only("mfa_required")
    r = http.post(lab.config.as_url + "/token", auth=client, data={
        "grant_type": "password", "username": "alice", "password": "wonderland"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["mfa_required"]


def test_full_profile_flow_still_works(lab, controls, http):
    controls.profile("fapi2-security")
    _, challenge = pkce_pair()
    # FAPI 2.0: the request goes by PAR; the front channel carries only its request_uri.
    r = push(http, lab, code_challenge=challenge, code_challenge_method="S256")
    assert r.status_code == 201, r.text
    seen = []
    result = victim(lab).authorize(par_authorization_url(lab, r.json()["request_uri"]),
                                   on_step=lambda step, _r: seen.append(step))
    assert seen == ["login", "mfa", "consent"] and result.code
