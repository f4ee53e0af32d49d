"""Hypothesis on the key and secret rotation routes: `POST /admin/keys/rotate`, `GET /admin/keys`,
`POST /admin/tpp/rotate-secret` (with the admin token, so bodies are read) and the RFC 7592 PUT
on a registration (with its registration access token, so the body reaches the metadata checks).

Garbage must get a clear JSON error (an `error` and a readable `error_description`), never a
500: tests/test_bad_input_fuzz.py drives every route too, but without those credentials most of
its requests stop at the 401.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.serving.in_process import RunningLab
from tests.test_authserver_client_credentials import register_client
from tests.test_bad_input_fuzz import EDGE_NUMBERS, EDGE_TEXT, MALFORMED_JWTS, garbage_text

METADATA_FIELDS = ["client_id", "client_secret", "client_name", "redirect_uris", "grant_types",
                   "response_types", "scope", "token_endpoint_auth_method", "jwks", "jwks_uri",
                   "contacts", "tls_client_auth_subject_dn", "dpop_bound_access_tokens",
                   "client_secret_expires_at", "registration_access_token", "software_id"]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | garbage_text
    | st.sampled_from(EDGE_TEXT + MALFORMED_JWTS) | st.sampled_from(EDGE_NUMBERS),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(METADATA_FIELDS + ["keys", "kty", "x5c"])
                      | st.text(max_size=8), inner, max_size=5),
    max_leaves=12)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(METADATA_FIELDS), values, max_size=8).map(json.dumps),
    values.map(json.dumps),
    st.binary(max_size=200),
    st.integers(min_value=900, max_value=12_000).map(lambda n: "[" * n + "]" * n),
)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-"
                                 "urlencoded", "application/json; charset=latin-1", ""])
queries = st.dictionaries(st.sampled_from(["kid", "status", "alg", "all", "x"]), garbage_text,
                          max_size=3)
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def clear_error(response: Any, *, allowed: tuple[int, ...]) -> None:
    assert response.status_code in allowed, (response.status_code, response.get_data()[:300])
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), \
            response.get_data()[:300]
        assert response.status_code == 401 or body.get("error_description"), body


def test_fuzzed_key_admin_routes_answer_clearly(lab: RunningLab, controls: Any) -> None:
    client = lab.apps["as"].test_client()
    token = lab.config.admin_token_path.read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}

    @FUZZ
    @given(path=st.sampled_from(["/admin/keys/rotate", "/admin/tpp/rotate-secret"]),
           body=bodies, content_type=content_types, query=queries)
    def post(path: str, body: Any, content_type: str, query: dict[str, str]) -> None:
        r = client.post(path, data=body, query_string=query,
                        headers={**auth, "Content-Type": content_type} if content_type else auth)
        # 200 when it was done, 409 while a rotation is in progress, 400 for any fields.
        clear_error(r, allowed=(200, 400, 409))
        if body not in ("{}", b"", ""):
            assert r.status_code in (400, 409) or json.loads(body or "null") == {}, \
                r.get_data()[:200]

    @FUZZ
    @given(query=queries, body=bodies)
    def get(query: dict[str, str], body: Any) -> None:
        r = client.get("/admin/keys", query_string=query, data=body, headers=auth)
        clear_error(r, allowed=(200,))
        assert {k["status"] for k in r.get_json()["keys"]} <= \
            {"current", "next", "retiring", "retired", "published"}

    try:
        post()
        get()
    finally:
        controls.restore()


def test_rotate_refuses_fields_and_non_json_with_a_readable_400(lab: RunningLab) -> None:
    client = lab.apps["as"].test_client()
    auth = {"Authorization": f"Bearer {lab.config.admin_token_path.read_text().strip()}"}
    for path in ("/admin/keys/rotate", "/admin/tpp/rotate-secret"):
        r = client.post(path, json={"force": True}, headers=auth)
        assert r.status_code == 400 and "no fields" in r.get_json()["error_description"]
        r = client.post(path, data="force=1", headers=auth,
                        content_type="application/x-www-form-urlencoded")
        assert r.status_code == 400 and "{}" in r.get_json()["error_description"]


def test_fuzzed_rfc7592_updates_answer_clearly(lab: RunningLab, http: requests.Session,
                                               controls: Any) -> None:
    controls.only()   # a client with a secret, which an update rotates
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    client = lab.apps["as"].test_client()
    path = "/register/" + reg["client_id"]
    auth = {"Authorization": f"Bearer {reg['registration_access_token']}"}

    @FUZZ
    @given(body=bodies, content_type=content_types)
    def put(body: Any, content_type: str) -> None:
        r = client.put(path, data=body, base_url=lab.config.as_url,
                       headers={**auth, "Content-Type": content_type} if content_type else auth)
        # 200: a body that happened to be valid metadata for this client (then it rotated).
        clear_error(r, allowed=(200, 400, 401, 413, 415))

    put()
    # The client is still there and still managed by its registration access token.
    assert client.get(path, headers=auth, base_url=lab.config.as_url).status_code == 200
