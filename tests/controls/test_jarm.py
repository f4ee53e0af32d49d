"""jarm: the authorization response as a JWT signed by the AS (JARM §2), both halves.

AS: response_mode=jwt is served in every profile; on, any other mode is refused with
invalid_request. FinLens: on, only a JWT response signed by the flow's AS, for its client_id,
not expired, is read (invalid_jarm otherwise); off, the JWT is read unchecked.
Attacks it blocks run in tests/attacks/test_jarm_attacks.py (they need the capture).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lab import clock, keys
from lab.controls.registry import Registry
from lab.tpp.driver import TppBrowser, user_agent
from tests.support.oauth import authorization_url, push, run, victim
from tests.support.tpp_fapi import restored_tpp_settings


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _metadata(http, lab) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return http.get(lab.config.as_url + "/.well-known/openid-configuration").json()


def _as_key(lab) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    private = keys.published(keys.KeyFile(lab.config.data_dir / "keys", "as").read(),
                             clock.now(lab.store))
    return keys.signing_key(private, "ES256")


def _verified(lab, http, token: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    jwks = http.get(lab.config.as_url + "/jwks").json()
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], audience="tpp")


# --- the AS --------------------------------------------------------------------------------
@pytest.mark.parametrize("on", [False, True])
def test_a_jwt_response_is_signed_by_the_as_with_iss_aud_exp(lab, controls, http, fired, on):
    controls.only("jarm", "iss_response_param") if on else controls.only("iss_response_param")
    result = run(lab, response_mode="jwt")
    assert result.callback_url and fired(result.response) == []
    query = parse_qs(urlsplit(result.callback_url).query)
    assert set(query) == {"response"}            # MS §5.4.1: iss only inside the JWT
    claims = _verified(lab, http, query["response"][0])
    assert claims["iss"] == lab.config.issuer and claims["aud"] == "tpp"
    assert claims["code"] == result.code and claims["state"] == result.state
    assert 0 < claims["exp"] - clock.now(lab.store) <= 600   # JARM §2.1: ≤ 10 minutes


@pytest.mark.parametrize(("mode", "where"), [("jwt", "fragment"), ("fragment.jwt", "fragment"),
                                              ("query.jwt", "query")])
def test_a_hybrid_response_as_a_jwt_is_signed_not_a_500(lab, controls, http, mode, where):
    """OIDC §3.3 (code id_token): Authlib's OIDC grants know no JWT mode; JARM §2.3.4 puts
    the response in the fragment (jwt, fragment.jwt) or the query (query.jwt), signed."""
    controls.only()
    result = run(lab, response_type="code id_token", response_mode=mode)
    assert result.response.status_code in (302, 303) and result.callback_url, \
        result.response.text[:300]
    parts = urlsplit(result.callback_url)
    carried = parse_qs(parts.fragment if where == "fragment" else parts.query)
    assert set(carried) == {"response"}
    claims = _verified(lab, http, carried["response"][0])
    assert claims["code"] and claims["id_token"] and claims["iss"] == lab.config.issuer


def test_off_plain_response_modes_are_still_served(lab, controls):
    controls.only()
    result = run(lab)
    assert result.code and "response" not in result.params


@pytest.mark.parametrize("mode", [None, "query", "fragment", "form_post"])
def test_on_a_request_for_a_plain_response_mode_is_refused(lab, controls, fired, mode):
    controls.only("jarm")
    result = run(lab, response_mode=mode)
    assert result.response.status_code == 400 and result.callback_url is None
    assert "invalid_request" in result.response.text
    assert fired(result.response) == ["jarm"]


def test_an_unknown_response_mode_is_refused_in_every_profile(lab, controls, fired):
    controls.only()
    result = run(lab, response_mode="jwt.bogus")
    assert result.response.status_code == 400 and result.callback_url is None
    assert fired(result.response) == []


def test_an_error_redirected_to_the_client_travels_inside_the_jwt(lab, controls, http):
    controls.only("jarm", "pkce_required")
    result = run(lab, response_mode="jwt")       # no code_challenge: refused at redirect_uri
    assert result.response.status_code == 302 and result.error == "invalid_request"
    token = parse_qs(urlsplit(result.callback_url or "").query)["response"][0]
    assert _verified(lab, http, token)["error"] == "invalid_request"


def test_a_denied_authorization_travels_inside_the_jwt(lab, controls, http):
    controls.only("jarm")
    result = victim(lab, approve=False).authorize(authorization_url(lab, response_mode="jwt"))
    assert result.error == "access_denied" and "response" in result.params


def test_pushed_requests_need_a_jwt_response_mode_when_on(lab, controls, http, fired):
    controls.only("jarm", "par_required")
    refused = push(http, lab)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert fired(refused) == ["jarm"]
    assert push(http, lab, response_mode="jwt").status_code == 201


def test_discovery_lists_only_jwt_modes_while_on(lab, controls, http):
    controls.only()
    meta = _metadata(http, lab)
    assert {"query", "jwt", "query.jwt"} <= set(meta["response_modes_supported"])
    assert meta["authorization_signing_alg_values_supported"] == ["ES256"]
    controls.only("jarm")
    assert set(_metadata(http, lab)["response_modes_supported"]) == {"jwt", "query.jwt",
                                                                     "fragment.jwt"}


def test_tpp_checks_iss_is_satisfied_by_jarm(lab, controls):
    """attacks.md §2.8: tpp_checks_iss requires iss_response_param *or* jarm."""
    controls.only("jarm")
    registry = Registry(lab.store)
    notes = registry.set({"tpp_checks_iss": True})
    assert notes == [] and "iss_response_param" not in registry.enabled()
    controls.only("tpp_checks_iss")
    assert "iss_response_param" in registry.enabled()     # the default of the two


# --- FinLens -------------------------------------------------------------------------------
def _pending(lab, username: str):  # type: ignore[no-untyped-def]
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    result = user_agent(lab.config, lab.store, "alice").authorize(browser.start_link())
    assert result.code and result.callback_url, result.params
    return browser, result


def _with_response(callback_url: str, token: str) -> str:
    return callback_url.split("?", 1)[0] + "?" + urlencode({"response": token})


def test_on_finlens_asks_for_jwt_and_links(lab, controls, tpp_settings, fired):
    controls.only("jarm")
    browser, result = _pending(lab, "jarm-link")
    assert "response" in result.params               # FinLens adapted to the AS's metadata
    r = browser.deliver(result.callback_url)
    assert r.status_code == 303 and fired(r) == []
    [linked] = browser.dashboard().links
    assert linked.status == "active"


def test_on_a_plain_response_is_refused_with_invalid_jarm(lab, controls, tpp_settings, fired):
    controls.only("jarm")
    browser, result = _pending(lab, "jarm-plain")
    plain = result.callback_url.split("?", 1)[0] + "?" + urlencode(
        {"code": result.code, "state": result.state})
    r = browser.deliver(plain)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_jarm")
    assert fired(r) == ["jarm"] and browser.dashboard().links == []


def _forged(lab, claims: dict[str, Any], how: str) -> str:  # type: ignore[no-untyped-def]
    as_key = _as_key(lab)
    if how == "none":
        return jwt.encode(claims, None, algorithm="none")
    if how == "hs256":
        return jwt.encode(claims, "public-knowledge-of-thirty-two-bytes", algorithm="HS256",
                          headers={"kid": as_key["kid"]})
    if how == "other-key":
        other = ec.generate_private_key(ec.SECP256R1())
        return jwt.encode(claims, other, algorithm="ES256", headers={"kid": as_key["kid"]})
    return jwt.encode(claims, jwt.PyJWK(as_key).key, algorithm="ES256",
                      headers={"kid": as_key["kid"]})


def _claims(lab, result, **changes: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    now = int(clock.now(lab.store))
    claims = {"iss": lab.config.issuer, "aud": "tpp", "exp": now + 300,
              "code": result.code, "state": result.state}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


BAD = {
    "unsigned": lambda lab, res: _forged(lab, _claims(lab, res), "none"),
    "hmac": lambda lab, res: _forged(lab, _claims(lab, res), "hs256"),
    "wrong-key": lambda lab, res: _forged(lab, _claims(lab, res), "other-key"),
    "expired": lambda lab, res: _forged(lab, _claims(lab, res, exp=int(clock.now(lab.store))
                                                      - 3600), "as"),
    "no-exp": lambda lab, res: _forged(lab, _claims(lab, res, exp=None), "as"),
    "other-audience": lambda lab, res: _forged(lab, _claims(lab, res, aud="evilapp"), "as"),
    "other-issuer": lambda lab, res: _forged(lab, _claims(lab, res,
                                                          iss="https://127.0.0.1:9448"), "as"),
    "not-a-jws": lambda lab, res: "not.a.jwt",
    "deeply-nested": lambda lab, res: _forged(lab, {**_claims(lab, res),
                                                    "x": json.loads("[" * 900 + "]" * 900)},
                                              "none"),
    "nested-json-text": lambda lab, res: "eyJhbGciOiJub25lIn0." + __import__("base64")
    .urlsafe_b64encode(b"[" * 5000).decode().rstrip("=") + ".",
    "oversized": lambda lab, res: "a" * 9000,
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_on_a_bad_jarm_response_is_refused_with_invalid_jarm(lab, controls, tpp_settings,
                                                            fired, kind):
    controls.only("jarm")
    browser, result = _pending(lab, f"jarm-{kind}")
    r = browser.deliver(_with_response(result.callback_url, BAD[kind](lab, result)))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_jarm"), r.text[:300]
    assert fired(r) == ["jarm"]
    assert browser.dashboard().links == []


@pytest.mark.parametrize("kind", ["oversized", "nested-json-text", "not-a-jws"])
def test_off_bad_jarm_input_is_a_readable_page_never_a_500(lab, controls, tpp_settings, kind):
    controls.only("tpp_referrer_policy")      # the callback answered server-side, no interstitial
    browser, result = _pending(lab, f"jarm-off-{kind}")
    r = browser.http.get(_with_response(result.callback_url, BAD[kind](lab, result)),
                         headers={"Accept": "text/html"}, allow_redirects=False)
    assert 400 <= r.status_code < 500 and "text/html" in r.headers["Content-Type"], r.text[:300]
    assert "FinLens" in r.text


def test_off_finlens_reads_an_unsigned_jwt_response_unchecked(lab, controls, tpp_settings,
                                                             fired):
    controls.only()
    browser, result = _pending(lab, "jarm-weak")
    token = _forged(lab, _claims(lab, result, aud="evilapp"), "none")
    r = browser.deliver(_with_response(result.callback_url, token))
    assert r.status_code == 303 and fired(r) == []
    [linked] = browser.dashboard().links
    assert linked.status == "active"
