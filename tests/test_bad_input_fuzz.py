"""Bad input to every endpoint yields a 4xx with an OAuth error or a readable page, never a 500.

Hypothesis drives every route of every app (enumerated from Flask's URL map, so a
new endpoint is covered without editing this file) with missing, duplicated and
garbage parameters, malformed JWTs, wrong content types, oversized bodies (a 413) and
deeply nested JSON; text includes lone surrogates, control characters and numbers past
what a float holds. Signed client assertions with such claims go to /par and /token, and
whatever dynamic registration accepts must be safe to store and to show on a page.
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
    "max_age", "login_hint", "acr_values", "claims", "registration_access_token", "response",
    "pending", "action", "confirmation", "answer", "user",   # sign-in pages, /lab/device
    "replaces",                                              # a consent amending earlier ones
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
    _fake_jwt({"alg": "ES256"}, {"exp": 10**400, "iat": -(10**400), "nbf": 1e308}),
    _b64(b'{"alg": "ES256", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}") + "." + _b64(b"{}") + ".x",
    _fake_jwt({"alg": "ES256", "kid": "\udc00"}, {"sub": "\x00\r\n"}),
]
# Values that broke the lab before: numbers past a float or a date, lone surrogates, control
# and bidi characters, CR/LF in URIs, non-https redirect URIs.
EDGE_NUMBERS = [10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, -1e308, 253402300800]
EDGE_TEXT = ["\udc00", "Nice\udc00App", "\ud800", "\x00", "\x07", "\x1b[31m", "a\r\nb",
             "\u202eevil", "x" * 3000, "1e400", "-1e400", str(10**400),
             "https://127.0.0.1:9446/cb\r\nX: 1", "http://evil.example/cb",
             "https://127.0.0.1:9446/cb#f", "https://127.0.0.1:9446/c\udc00b"]


def _on_the_wire(text: str) -> bool:
    """A form or query value must be UTF-8 to be sent at all; JSON escapes surrogates."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


WIRE_TEXT = [t for t in EDGE_TEXT if _on_the_wire(t)]

garbage_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf"]), max_size=8),
    st.sampled_from(WIRE_TEXT),
    st.sampled_from(['"', "\\", "%22", "https://x/%22", "ü", "\x00", "' OR 1=1 --", "-1",
                     "99999999999999999999", "https://127.0.0.1:9446/cb", "javascript:alert(1)",
                     "S256", "plain", "code", "code id_token token", "openid payments:write",
                     "authorization_code", "refresh_token", "password", "tpp", "alice",
                     "2026-13-45", "0", " ", "",
                     # the consent page's "and N earlier links" line (replaces=older-than:<id>)
                     "older-than:", "older-than:grant-0000", "older-than:' OR 1=1 --"]),
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
json_text = st.one_of(garbage_text, st.sampled_from(EDGE_TEXT),
                     st.text(alphabet=st.characters(categories=["Cs", "Cc"]), max_size=8))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | json_text
    | st.sampled_from(EDGE_NUMBERS),
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
BODY_KINDS = ["form", "json", "raw", "oversized", "nested", "wrong-type"]
nesting = st.integers(min_value=900, max_value=15_000)
# RFC 9701 §4: the introspection endpoint reads Accept; odd weights and parameters included.
accept = st.sampled_from(["application/json", "text/html", "*/*", "",
                          "application/token-introspection+jwt",
                          "application/token-introspection+jwt;q=0",
                          "application/token-introspection+jwt;q=abc;;",
                          "application/token-introspection+jwt;q=" + "9" * 400, ";;,,;q=",
                          "APPLICATION/TOKEN-INTROSPECTION+JWT, */*;q=0.1"])


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
           auth=authorization, accept_header=accept, raw=st.binary(max_size=200),
           depth=nesting)
    def one_request(path_values: dict[str, str], query: list, form: list, body_json: Any,
                    auth: str | None, accept_header: str, raw: bytes, depth: int) -> None:
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
            elif kind == "nested":
                kwargs["data"] = b'{"client_name": "x", "jwks": ' + b"[" * depth + \
                    b"]" * depth + b"}"
                kwargs["content_type"] = "application/json"
            elif kind == "wrong-type":
                kwargs["data"] = raw
                kwargs["content_type"] = "text/plain; charset=utf-8"
        path = _path_for(rule, path_values)
        response = client.open(path, method=method, **kwargs)
        if response.status_code >= 500 or (kind == "oversized" and response.status_code != 413):
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


edge_value = st.one_of(st.sampled_from(EDGE_NUMBERS), json_text, st.integers(), st.none(),
                       st.sampled_from(["pairwise", "public", "ES256", "RS256", "none"]))
metadata_text = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=30),
                          st.sampled_from(["EvilApp", "https://127.0.0.1:9446/cb"]))


def test_whatever_registration_accepts_is_safe_to_store_and_show(lab: RunningLab,
                                                                  controls: Any) -> None:
    """A registered client's metadata reaches the login and consent pages: anything the AS
    accepts must render, and its redirect URIs must be https (or loopback http) URIs."""
    controls.only()
    client = lab.apps["as"].test_client()
    base = lab.config.as_url

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(name=metadata_text, uris=st.lists(metadata_text, min_size=1, max_size=3),
           extra=st.dictionaries(st.sampled_from(["client_uri", "logo_uri", "contacts",
                                                  "software_id", "tos_uri", "x",
                                                  # OIDC Registration §2; RFC 9701 §6
                                                  "subject_type", "sector_identifier_uri",
                                                  "introspection_signed_response_alg",
                                                  "introspection_encrypted_response_alg"]),
                                 edge_value, max_size=2))
    def one(name: str, uris: list[str], extra: dict[str, Any]) -> None:
        body = json.dumps({"client_name": name, "redirect_uris": uris, **extra})
        r = client.post("/register", data=body, content_type="application/json", base_url=base)
        assert r.status_code in (201, 400), (body[:200], r.status_code, r.get_data()[:200])
        if r.status_code == 400:
            assert r.json["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
            return
        registered = r.json
        for uri in registered["redirect_uris"]:
            assert uri.startswith(("https://", "http://127.0.0.1", "http://[::1]")), uri
            assert uri.isascii() and uri.isprintable(), uri
        page = client.get("/authorize", query_string={
            "client_id": registered["client_id"], "response_type": "code", "scope": "openid",
            "redirect_uri": registered["redirect_uris"][0], "state": "s"}, base_url=base,
            headers={"Accept": "text/html"})
        assert page.status_code < 500, (body[:200], page.get_data()[:200])

    one()


def test_signed_client_assertions_with_edge_claims_never_cause_a_server_error(
        lab: RunningLab, controls: Any) -> None:
    """Past the signature check: claims with numbers at the edges, odd types and text."""
    from joserfc import jwt as jose_jwt

    from lab import clock
    from tests.support.oauth import tpp_key

    controls.only("private_key_jwt_only", "client_assertion_jti_single_use",
                  "client_assertion_aud_check", "client_assertion_time_window")
    client = lab.apps["as"].test_client()
    key = tpp_key(lab)

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(overrides=st.dictionaries(st.sampled_from(["exp", "iat", "nbf", "jti", "aud", "sub"]),
                                     edge_value, min_size=1, max_size=3),
           path=st.sampled_from(["/par", "/token"]))
    def one(overrides: dict[str, Any], path: str) -> None:
        now = clock.now_int(lab.store)
        claims = {"iss": "tpp", "sub": "tpp", "aud": lab.config.issuer, "jti": str(now) + path,
                  "iat": now, "exp": now + 30, **overrides}
        try:
            assertion = jose_jwt.encode({"alg": "ES256", "kid": key.thumbprint()}, claims, key)
        except (ValueError, TypeError):
            return  # not encodable as a JWT at all
        r = client.post(path, base_url=lab.config.as_url, data={
            "grant_type": "client_credentials", "response_type": "code", "client_id": "tpp",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion})
        assert r.status_code < 500, (claims, r.get_data()[:200])

    one()
