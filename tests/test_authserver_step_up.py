"""The AS side of step-up (OIDC Core §3.1.2.1, RFC 9470 §4, §6): acr_values, max_age and
prompt=login on authorization requests (front channel and PAR); acr, amr and auth_time in
ID tokens, access tokens and introspection; acr_values_supported in discovery."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from tests.support.oauth import (
    authorization_url,
    claims,
    par_authorization_url,
    pkce_pair,
    push,
    redeem,
    tokens,
    tpp_credentials,
    victim,
)


def test_discovery_lists_the_acr_values(lab, http):
    meta = http.get(lab.config.as_url + "/.well-known/openid-configuration").json()
    assert meta["acr_values_supported"] == ["pwd", "sca"]


def test_acr_values_sca_asks_for_the_second_factor_even_with_mfa_required_off(lab, controls, http):
    controls.only()
    steps: list[str] = []
    result = victim(lab).authorize(authorization_url(lab, acr_values="sca"),
                                   on_step=lambda step, _: steps.append(step))
    assert steps == ["login", "mfa", "consent"]
    r = redeem(http, lab, result.code)
    access = claims(r.json()["access_token"])
    assert access["acr"] == "sca" and access["amr"] == ["pwd", "otp"]


def test_without_acr_values_the_password_alone_signs_in_when_mfa_required_is_off(lab, controls):
    controls.only()
    steps: list[str] = []
    victim(lab).authorize(authorization_url(lab), on_step=lambda step, _: steps.append(step))
    assert steps == ["login", "consent"]


def test_id_token_access_token_and_introspection_carry_the_authentication(lab, controls, http):
    controls.only("mfa_required")
    before = clock.now_int(lab.store)
    body = tokens(http, lab, pkce=False, max_age="300", prompt="login")
    id_token, access = claims(body["id_token"]), claims(body["access_token"])
    for token in (id_token, access):
        assert token["acr"] == "sca" and token["amr"] == ["pwd", "otp"]
        assert token["auth_time"] >= before
    r = http.post(lab.config.as_url + "/introspect", data={"token": body["access_token"]},
                  auth=tpp_credentials(lab))
    seen = r.json()
    assert seen["active"] and seen["acr"] == "sca" and seen["amr"] == ["pwd", "otp"]
    assert seen["auth_time"] == access["auth_time"]


def test_a_refreshed_token_keeps_the_old_authentication(lab, controls, http):
    controls.only("mfa_required")
    body = tokens(http, lab, pkce=False)
    first = claims(body["access_token"])
    clock.advance(lab.store, 3600)
    r = http.post(lab.config.as_url + "/token", auth=tpp_credentials(lab),
                  data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    again = claims(r.json()["access_token"])
    assert again["auth_time"] == first["auth_time"]
    assert again["acr"] == "sca" and again["amr"] == ["pwd", "otp"]


def test_a_sign_in_older_than_max_age_at_consent_is_done_again(lab, controls, http):
    controls.only("mfa_required")
    steps: list[str] = []

    def on_step(step: str, response: requests.Response) -> None:
        steps.append(step)
        if step == "consent" and steps.count("consent") == 1:
            clock.advance(lab.store, 120)   # alice reads the consent page for two minutes

    result = victim(lab).authorize(authorization_url(lab, max_age="60"), on_step=on_step)
    assert steps == ["login", "mfa", "consent", "login", "mfa", "consent"]
    assert any("sign in again" in h.text.lower() for h in result.history)
    token = claims(redeem(http, lab, result.code).json()["access_token"])
    assert clock.now_int(lab.store) - token["auth_time"] < 60


def _bad(response: requests.Response) -> bool:
    return response.status_code in (302, 303) and "error=invalid_request" in \
        response.headers.get("Location", "") or response.status_code == 400


def test_a_malformed_max_age_or_acr_values_is_refused(lab, controls, http):
    controls.only()
    for params in ({"max_age": "-1"}, {"max_age": "soon"}, {"max_age": "9" * 12},
                   {"acr_values": "x" * 600}, {"acr_values": "sca\u0000"}):
        r = http.get(authorization_url(lab, **params), allow_redirects=False)
        assert _bad(r), (params, r.status_code, r.text[:200])


def test_par_carries_acr_values_and_max_age_and_refuses_bad_ones(lab, controls, http):
    controls.profile("fapi2-security")
    controls.set(mfa_required=False)
    r = push(http, lab, max_age="later")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    r = push(http, lab, code_challenge=challenge, code_challenge_method="S256",
             acr_values="sca", max_age="300")
    assert r.status_code == 201, r.text
    steps: list[str] = []
    result = victim(lab).authorize(par_authorization_url(lab, r.json()["request_uri"]),
                                   on_step=lambda step, _: steps.append(step))
    assert steps == ["login", "mfa", "consent"] and result.code


# --- bad input: never a 500, at the AS or at the bank -------------------------------------------
odd_text = st.one_of(st.text(max_size=30), st.sampled_from(
    ["-1", "0", "1e3", "99999999999999999999", " 300", "300 ", "\x00", "sca sca", "x" * 3000,
     "none login", "none", "login", "consent", "\u202e", "３００"]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(max_age=odd_text, acr=odd_text, prompt=odd_text)
def test_odd_max_age_acr_values_and_prompt_get_an_answer_never_a_crash(
        lab, http, max_age, acr, prompt):
    try:
        url = authorization_url(lab, max_age=max_age, acr_values=acr, prompt=prompt)
        r = http.get(url, allow_redirects=False, timeout=30)
    except UnicodeEncodeError:
        return   # not sendable on the wire
    assert r.status_code in (200, 302, 303, 400), (max_age, acr, prompt, r.status_code)


json_odd = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3),
                     st.sampled_from([10**400, -(10**400), 1e308, "sca", ["sca"], {"a": 1}]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acr=json_odd, auth_time=json_odd)
def test_odd_acr_and_auth_time_claims_at_the_bank_are_refused_never_a_crash(
        lab, controls, http, acr, auth_time):
    from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys, mint

    ensure_bank_knows_as_keys(lab)
    controls.only("step_up_for_payments")
    try:
        token = mint(lab, acr=acr, auth_time=auth_time).token
    except (OverflowError, ValueError, TypeError):
        return   # not a JSON a token can carry
    r = http.post(lab.config.bank_url + "/payments", json={"debtor_account_id": "x"},
                  headers=bearer(token))
    assert r.status_code in (400, 401, 403, 404), r.text
    if r.status_code == 401:
        assert r.json()["error"] in ("insufficient_user_authentication", "invalid_token")


def test_prompt_none_is_login_required_since_the_as_keeps_no_sign_in_session(lab, controls, http):
    controls.only()
    r = http.get(authorization_url(lab, prompt="none"), allow_redirects=False)
    assert r.status_code in (302, 303) and "error=login_required" in r.headers["Location"]
