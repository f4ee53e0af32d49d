"""FinLens never answers bad input with a 5xx: missing, repeated or garbage callback parameters,
unknown institutions, links and sessions (style.md §9)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = [
    ("GET", "/callback", None),
    ("GET", "/callback?code=", None),
    ("GET", "/callback?state=", None),
    ("GET", "/callback?code=a&code=b&state=s", None),
    ("GET", "/callback?error=access_denied&state=x", None),
    ("GET", "/callback?error=%22%5C%00&error_description=%FF", None),
    ("GET", "/callback?code=%00%01&state=%F0%9F%92%A5", None),
    ("GET", "/callback?id_token=not.a.jwt&access_token=x", None),
    ("POST", "/callback", {"code": "x", "state": "y"}),
    ("POST", "/callback", {}),
    ("POST", "/callback", {"access_token": "x", "id_token": "...."}),
    ("GET", "/link/%00", None),
    ("POST", "/link/" + "x" * 500, None),
    ("POST", "/link/..%2F..%2Fetc", None),
    ("POST", "/links/nope/unlink", None),
    ("POST", "/links/nope/relink", None),
    ("POST", "/signin", {"username": "ä" * 40}),
    ("POST", "/signin", {}),
    ("GET", "/go?url=", None),
    ("GET", "/go?url=%0d%0aSet-Cookie:x", None),
    ("GET", "/go?url=https://a&url=https://b", None),
    ("GET", "/go?url=http://[::1", None),
    ("GET", "/dashboard", None),
    ("GET", "/settings", None),
    ("GET", "/links/status", None),
    ("GET", "/links/status?x=%00", None),
]


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
@pytest.mark.parametrize("method, path, form", CASES)
def test_bad_input_is_a_4xx_or_a_page_never_a_5xx(lab, controls, http, profile, method, path,
                                                 form):
    controls.profile(profile)
    r = http.request(method, lab.config.tpp_url + path, data=form, allow_redirects=False)
    assert r.status_code < 500, r.text[:300]


def test_a_forged_session_cookie_is_an_unknown_session(lab, http):
    http.cookies.set("fapi_lab_tpp", "eyJ1c2VyIjoidS14In0.forged.sig", domain="127.0.0.1")
    r = http.get(lab.config.tpp_url + "/dashboard", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(
    st.sampled_from(["code", "state", "iss", "error", "access_token", "id_token", "scope",
                     "expires_in", "token_type", "x"]),
    st.text(max_size=40), max_size=5))
def test_any_callback_parameters_never_give_a_5xx(lab, params):
    session = requests.Session()
    session.verify = str(lab.config.ca_cert_path)
    session.trust_env = False
    for method in ("GET", "POST"):
        url = lab.config.tpp_url + "/callback"
        r = session.request(method, url + ("?" + urlencode(params) if method == "GET" else ""),
                            data=params if method == "POST" else None, allow_redirects=False)
        assert r.status_code < 500, (method, params, r.text[:300])
