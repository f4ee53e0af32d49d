"""Signed introspection responses (RFC 9701): the AS signs when asked, the resource server's
check (lab/protocol/introspection_jwt.verify) refuses anything it should not believe."""

from __future__ import annotations

import base64
import json

import pytest

from lab.protocol import introspection_jwt
from lab.protocol.introspection_jwt import IntrospectionResponseError, verify
from tests.support.oauth import claims, credentials, header, register, tokens, tpp_credentials

JWT_ACCEPT = {"Accept": introspection_jwt.MEDIA_TYPE}


def introspect(http, lab, token, headers=None, auth=None):  # type: ignore[no-untyped-def]
    return http.post(lab.config.as_url + "/introspect", data={"token": token},
                     auth=auth or tpp_credentials(lab), headers=headers or {})


def as_keys(http, lab):  # type: ignore[no-untyped-def]
    return http.get(lab.config.as_url + "/jwks").json()["keys"]


def b64(data: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def signed(lab, controls, http):  # type: ignore[no-untyped-def]
    controls.only()
    token = tokens(http, lab, pkce=False)["access_token"]
    r = introspect(http, lab, token, JWT_ACCEPT)
    assert r.status_code == 200, r.text
    return r


def test_jwt_response_when_the_caller_asks(lab, http, signed):
    assert signed.headers["Content-Type"] == introspection_jwt.MEDIA_TYPE
    assert signed.headers["Cache-Control"] == "no-store"
    assert header(signed.text)["typ"] == "token-introspection+jwt"
    assert header(signed.text)["alg"] == "ES256"
    c = claims(signed.text)
    assert c["iss"] == lab.config.issuer and c["aud"] == "tpp" and isinstance(c["iat"], int)
    # RFC 9701 §5: no top-level sub or exp, so the response cannot pass for an access token.
    assert "sub" not in c and "exp" not in c
    body = verify(signed.text, as_keys(http, lab), lab.config.issuer, "tpp")
    assert body["active"] is True and body["client_id"] == "tpp" and body["sub"] == "alice"


def test_plain_json_otherwise(lab, controls, http):
    controls.only()
    token = tokens(http, lab, pkce=False)["access_token"]
    for accept in (None, "application/json", "*/*",
                   introspection_jwt.MEDIA_TYPE + ";q=0"):
        r = introspect(http, lab, token, {"Accept": accept} if accept else None)
        assert r.status_code == 200 and r.json()["active"] is True, accept


def test_an_inactive_token_is_answered_signed_too(lab, controls, http):
    controls.only()
    r = introspect(http, lab, "no-such-token", JWT_ACCEPT)
    assert r.status_code == 200
    assert verify(r.text, as_keys(http, lab), lab.config.issuer, "tpp") == {"active": False}


@pytest.mark.parametrize("accept", [
    "application/token-introspection+jwt;q=abc", "application/token-introspection+jwt;;;",
    ";;,,", "\x7f", "a" * 10_000, "application/token-introspection+jwt;q=" + "9" * 400,
    "application/token-introspection+JWT, application/json;q=0.1", "é",
])
def test_odd_accept_values_never_fail(lab, controls, http, accept):
    controls.only()
    r = introspect(http, lab, "no-such-token", {"Accept": accept.encode("utf-8")})
    assert r.status_code == 200
    assert r.text.startswith("{") or r.text.count(".") == 2


def test_wrong_audience_issuer_and_typ_are_refused(lab, http, signed):
    keys = as_keys(http, lab)
    with pytest.raises(IntrospectionResponseError, match="aud"):
        verify(signed.text, keys, lab.config.issuer, "another-resource-server")
    with pytest.raises(IntrospectionResponseError, match="iss"):
        verify(signed.text, keys, "https://127.0.0.1:9448", "tpp")
    head, body, sig = signed.text.split(".")
    relabelled = b64(dict(header(signed.text), typ="JWT"))
    with pytest.raises(IntrospectionResponseError, match="typ"):
        verify(f"{relabelled}.{body}.{sig}", keys, lab.config.issuer, "tpp")


def test_tampered_unsigned_and_foreign_responses_are_refused(lab, http, signed):
    keys = as_keys(http, lab)
    head, body, sig = signed.text.split(".")
    forged = dict(claims(signed.text))
    forged["token_introspection"] = dict(forged["token_introspection"], scope="payments:write")
    with pytest.raises(IntrospectionResponseError, match="signature"):
        verify(f"{head}.{b64(forged)}.{sig}", keys, lab.config.issuer, "tpp")
    unsigned = b64({"alg": "none", "typ": "token-introspection+jwt"})
    with pytest.raises(IntrospectionResponseError, match="alg"):
        verify(f"{unsigned}.{body}.", keys, lab.config.issuer, "tpp")
    with pytest.raises(IntrospectionResponseError, match="signature"):
        verify(signed.text, [], lab.config.issuer, "tpp")
    for junk in ("", "a.b", "x" * 70_000, "....", "e30.e30.", None, 42):
        with pytest.raises(IntrospectionResponseError):
            verify(junk, keys, lab.config.issuer, "tpp")


def test_a_stale_response_is_refused(lab, http, signed):
    from lab import clock
    clock.advance(lab.store, introspection_jwt.MAX_AGE + 60)
    try:
        from lab import context
        bound = context.set_context(context.RequestContext(lab.store, "test"))
        try:
            with pytest.raises(IntrospectionResponseError, match="iat"):
                verify(signed.text, as_keys(http, lab), lab.config.issuer, "tpp")
        finally:
            context.reset_context(bound)
    finally:
        clock.reset(lab.store)


def test_a_registered_alg_gets_signed_answers_without_accept(lab, controls, http):
    controls.only()
    reg = register(http, lab, introspection_signed_response_alg="ES256")
    assert reg["introspection_signed_response_alg"] == "ES256"
    r = introspect(http, lab, "no-such-token", auth=credentials(reg))
    assert r.headers["Content-Type"] == introspection_jwt.MEDIA_TYPE
    assert claims(r.text)["aud"] == reg["client_id"]


@pytest.mark.parametrize("metadata", [
    {"introspection_signed_response_alg": "RS256"},
    {"introspection_signed_response_alg": "none"},
    {"introspection_signed_response_alg": 7},
    {"introspection_encrypted_response_alg": "RSA-OAEP-256"},
])
def test_unsupported_introspection_metadata_is_refused(lab, controls, http, metadata):
    controls.only()
    r = http.post(lab.config.as_url + "/register",
                  json={"redirect_uris": ["https://127.0.0.1:9446/cb"], **metadata})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"


def test_discovery_names_the_signing_alg(lab, controls, http):
    controls.only()
    meta = http.get(lab.config.issuer + "/.well-known/openid-configuration").json()
    assert meta["introspection_signing_alg_values_supported"] == ["ES256"]


# --- fuzz: whatever arrives, the check refuses cleanly and the endpoint answers 200 ----------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.test_bad_input_fuzz import MALFORMED_JWTS, _fake_jwt  # noqa: E402

jws_like = st.one_of(
    st.text(max_size=60), st.sampled_from(MALFORMED_JWTS),
    st.builds(lambda h, c: _fake_jwt(h, c), st.dictionaries(
        st.sampled_from(["alg", "typ", "kid", "jwk"]),
        st.one_of(st.text(max_size=10), st.integers(), st.none(),
                  st.sampled_from(["ES256", "none", "token-introspection+jwt"])), max_size=4),
        st.dictionaries(st.sampled_from(["iss", "aud", "iat", "token_introspection"]),
                        st.one_of(st.text(max_size=10), st.integers(), st.none(),
                                  st.floats(allow_nan=True), st.just({"active": "yes"})),
                        max_size=4)))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(token=jws_like)
def test_the_check_only_ever_refuses_with_its_own_error(token: str) -> None:
    key = {"kty": "EC", "crv": "P-256", "kid": "k",
           "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    with pytest.raises(IntrospectionResponseError):
        verify(token, [key, {"kty": "oct"}, "junk"], "https://as", "rs")  # type: ignore[list-item]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(accept=st.one_of(st.none(), st.text(max_size=80), st.sampled_from([
    "application/token-introspection+jwt;q=", "application/token-introspection+jwt;q=-1",
    "application/token-introspection+jwt;q=1e400", "application/token-introspection+jwt;q=nan"])),
       registered=st.one_of(st.none(), st.text(max_size=8), st.integers()))
def test_reading_accept_never_fails(accept: str | None, registered: object) -> None:
    assert introspection_jwt.wants_jwt(accept, {"introspection_signed_response_alg": registered}) \
        in (True, False)


def test_the_endpoint_answers_any_accept_with_200(lab, controls) -> None:  # type: ignore[no-untyped-def]
    controls.only()
    client = lab.apps["as"].test_client()
    auth = "Basic " + base64.b64encode(":".join(tpp_credentials(lab)).encode()).decode()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(accept=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                          max_size=80) | st.sampled_from([introspection_jwt.MEDIA_TYPE + ";q=x"]),
           token=st.one_of(st.text(max_size=30), st.sampled_from(MALFORMED_JWTS)))
    def one(accept: str, token: str) -> None:
        r = client.post("/introspect", data={"token": token or "x"}, base_url=lab.config.as_url,
                        headers={"Authorization": auth, "Accept": accept})
        assert r.status_code in (200, 400), (accept, r.status_code, r.get_data()[:200])

    one()
