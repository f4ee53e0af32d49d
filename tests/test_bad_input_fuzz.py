"""Bad input to every endpoint yields a 4xx with an OAuth error or a readable page, never a 500.

Hypothesis drives every route of every app (enumerated from Flask's URL map, so a
new endpoint is covered without editing this file) with missing, duplicated and
garbage parameters, malformed JWTs, wrong content types and oversized bodies.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from lab.serving.in_process import RunningLab

PARAM_NAMES = [
    "client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
    "code", "code_verifier", "code_challenge", "code_challenge_method", "grant_type",
    "refresh_token", "token", "token_type_hint", "request", "request_uri", "username",
    "password", "otp", "client_secret", "client_assertion", "client_assertion_type", "resource",
    "page", "page_size", "from", "to", "url", "iss", "id_token", "access_token", "error",
    "accounts", "permissions", "decision", "csrf_token", "grant_id", "institution", "prompt",
    "max_age", "login_hint", "acr_values", "claims", "registration_access_token",
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _fake_jwt(header: dict[str, Any], claims: dict[str, Any], sig: bytes = b"x") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(sig)])


MALFORMED_JWTS = [
    "a.b.c", "..", "eyJ.eyJ.", "not-a-jwt", "e30.e30.",
    _fake_jwt({"alg": "none"}, {"sub": "alice"}, b""),
    _fake_jwt({"alg": "HS256", "kid": "nope"}, {"exp": "soon"}),
    _fake_jwt({"alg": "ES256", "jwk": {"kty": "EC"}}, {"iss": 1, "aud": [None]}),
    _fake_jwt({"alg": ["RS256"]}, {}),
    _b64(b"[1,2]") + "." + _b64(b'"str"') + ".",
]

garbage_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"', "\\", "%22", "https://x/%22", "ü", "\x00", "' OR 1=1 --", "-1",
                     "99999999999999999999", "https://127.0.0.1:9446/cb", "javascript:alert(1)",
                     "S256", "plain", "code", "code id_token token", "openid payments:write",
                     "authorization_code", "refresh_token", "password", "tpp", "alice",
                     "2026-13-45", "0", " ", ""]),
    st.sampled_from(MALFORMED_JWTS),
)


def _with_values(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.tuples(*[st.tuples(st.just(n), garbage_text) for n in names]).map(list)


def _duplicate_some(pairs: list[tuple[str, str]], dupes: list[tuple[str, str]]
                    ) -> list[tuple[str, str]]:
    return pairs + [(name, value) for (name, _), (_, value) in zip(pairs, dupes, strict=False)]


# Sets of the protocol's own parameter names with garbage values (that is where handling bugs
# hide), some names duplicated with a second value, plus a little noise.
params = st.builds(
    lambda pairs, dupes, noise: _duplicate_some(pairs, dupes) + noise,
    st.lists(st.sampled_from(PARAM_NAMES), min_size=2, max_size=20, unique=True)
    .flatmap(_with_values),
    st.lists(st.tuples(st.just(""), garbage_text), max_size=2),
    st.lists(st.tuples(st.text(max_size=12), garbage_text), max_size=2),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | garbage_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.one_of(st.sampled_from(PARAM_NAMES + ["debtor_account_id", "creditor",
                                                 "instructed_amount", "redirect_uris", "jwks",
                                                 "changes", "name", "seconds"]),
                  st.text(max_size=8)), inner, max_size=5),
    max_leaves=12)
authorization = st.one_of(
    st.none(),
    st.sampled_from(MALFORMED_JWTS).map(lambda t: f"Bearer {t}"),
    st.sampled_from(MALFORMED_JWTS).map(lambda t: f"DPoP {t}"),
    st.binary(max_size=20).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    st.sampled_from(["Basic", "Bearer", "Basic Og==", "Basic dHBwOg==", "Bearer " + "x" * 5000]),
)
BODY_KINDS = ["form", "json", "raw", "oversized", "wrong-type"]
accept = st.sampled_from(["application/json", "text/html", "*/*", ""])


def _path_for(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(arg) + ">", values.get(arg, "x"), path)
    return path


def _routes(lab: RunningLab) -> list[tuple[str, Rule, str]]:
    routes = []
    for name, app in lab.apps.items():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((name, rule, method))
    return routes


@pytest.mark.timeout(900)
def test_no_endpoint_answers_bad_input_with_a_server_error(lab: RunningLab) -> None:
    routes = _routes(lab)
    assert len(routes) >= 15, "expected the AS, bank and TPP routes to be enumerated"
    failures: list[str] = []

    for app_name, rule, method in routes:
        base = {"as": lab.config.as_url, "bank": lab.config.bank_url,
                "tpp": lab.config.tpp_url}[app_name]
        fuzz_route(lab.apps[app_name].test_client(), base, rule, method, failures)
    assert not failures, "server errors on bad input:\n" + "\n".join(failures[:20])


def fuzz_route(client: Any, base: str, rule: Rule, method: str, failures: list[str]) -> None:
    """Run Hypothesis against one route, once per body kind; record (not raise) any 5xx."""
    kinds = ["none"] if method == "GET" else BODY_KINDS
    for kind in kinds:
        _fuzz_route_with(client, base, rule, method, kind, 24 if method == "GET" else 12,
                         failures)


def _fuzz_route_with(client: Any, base: str, rule: Rule, method: str, kind: str,
                     examples: int, failures: list[str]) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(path_values=st.dictionaries(st.sampled_from(list(rule.arguments) or ["_"]),
                                       st.text(alphabet=st.characters(
                                           blacklist_categories=("Cs",),
                                           blacklist_characters="/?#%"),
                                           min_size=1, max_size=20)),
           query=params, form=params, body_json=json_values,
           auth=authorization, accept_header=accept, raw=st.binary(max_size=200))
    def one_request(path_values: dict[str, str], query: list, form: list, body_json: Any,
                    auth: str | None, accept_header: str, raw: bytes) -> None:
        headers: dict[str, str] = {}
        if auth:
            headers["Authorization"] = auth
        if accept_header:
            headers["Accept"] = accept_header
        kwargs: dict[str, Any] = {"query_string": MultiDict(query), "headers": headers,
                                  "base_url": base}
        if method != "GET":
            if kind == "form":
                kwargs["data"] = MultiDict(form)
            elif kind == "json":
                kwargs["data"] = json.dumps(body_json)
                kwargs["content_type"] = "application/json"
            elif kind == "raw":
                kwargs["data"] = raw
                kwargs["content_type"] = "application/json"
            elif kind == "oversized":
                kwargs["data"] = b"a=" + b"x" * 80_000
                kwargs["content_type"] = "application/x-www-form-urlencoded"
            elif kind == "wrong-type":
                kwargs["data"] = raw
                kwargs["content_type"] = "text/plain; charset=utf-8"
        path = _path_for(rule, path_values)
        response = client.open(path, method=method, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {base}{path} kind={kind} -> "
                            f"{response.status_code}: {response.get_data()[:200]!r}")
            raise AssertionError(failures[-1])

    with contextlib.suppress(AssertionError):  # recorded in `failures`; fuzz on
        one_request()


def test_the_fuzzer_finds_a_route_that_crashes_on_bad_input(tmp_path: Any) -> None:
    """Guards the guard: a view that 500s on an unexpected parameter must be reported."""
    from flask import Flask, request

    from lab.store import SQLiteStore
    from lab.web.app_base import init_lab_app

    app = Flask("crashy")
    init_lab_app(app, component="crashy", store=SQLiteStore(tmp_path / "s.db"),
                 data_dir=tmp_path)

    @app.route("/token", methods=["POST"])
    def token() -> str:
        return str(int(request.form.get("code", "0")))  # ValueError on garbage → 500

    failures: list[str] = []
    rule = next(r for r in app.url_map.iter_rules() if r.rule == "/token")
    fuzz_route(app.test_client(), "https://127.0.0.1:1", rule, "POST", failures)
    assert failures and "500" in failures[0]
