"""Hypothesis over request objects (JAR, RFC 9101), by value and inside PAR: unsigned, alg none
with a signature, wrongly signed, HMAC, expired, too long-lived, oversized, deeply nested,
not an object, odd claim values. Each gets invalid_request_object (or another 4xx OAuth error,
with constant text), never a 500, whatever the switches."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support import jar
from tests.support.oauth import assertion_params, client_assertion, client_key, tpp_key

JAR_ON = ("jar_required", "request_object_lifetime", "alg_allow_list")
HOUR = 3600
EDGE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                 st.text(max_size=20), st.sampled_from([10**400, 1e308, -(2**63), "", "\x00"]),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4),
                                                                      st.integers(), max_size=2))
CLAIMS = ["iss", "aud", "exp", "nbf", "iat", "client_id", "redirect_uri", "scope", "state",
          "response_type", "max_age", "claims", "request", "request_uri", "x" * 120]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign_raw(lab: RunningLab, payload: bytes, key: Any = None, alg: str = "ES256") -> str:
    from joserfc import jws

    key = key if key is not None else tpp_key(lab, alg)
    return jws.serialize_compact({"alg": alg, "kid": key.thumbprint()}, payload, key,
                                 algorithms=[alg])


def _nested(depth: int) -> bytes:
    return b'{"iss":"tpp","x":' + b"[" * depth + b"]" * depth + b"}"


def _objects(lab: RunningLab) -> Any:
    """(class, request object) pairs, one strategy per class of bad input."""
    body = st.builds(lambda o: jar.body(lab, **o),
                     st.dictionaries(st.sampled_from(CLAIMS), EDGE, max_size=4))
    wrong_key = client_key()[0]
    return st.one_of(
        body.map(lambda b: ("unsigned", jar.unsigned(b))),
        body.map(lambda b: ("none with signature", jar.unsigned(b) + "c2ln")),
        body.map(lambda b: ("wrong key", jar.signed(lab, b, key=wrong_key))),
        body.map(lambda b: ("edge claims", _safe_sign(lab, b))),
        st.integers(HOUR + 20, 5 * HOUR).map(
            lambda a: ("old", jar.signed(lab, jar.body(lab, age=a)))),
        st.integers(HOUR + 1, 100 * HOUR).map(
            lambda n: ("long-lived", jar.signed(lab, jar.body(lab, lifetime=n)))),
        st.integers(8200, 40_000).map(
            lambda n: ("oversized", jar.signed(lab, jar.body(lab, state="s" * n)))),
        st.integers(900, 3000).map(lambda d: ("nested", _sign_raw(lab, _nested(d)))),
        st.integers(900, 3000).map(
            lambda d: ("nested header", _b64(b'{"alg":' + b"[" * d + b"]" * d + b"}")
                       + "." + _b64(b"{}") + ".")),
        st.sampled_from([b"[]", b"5", b"null", b"\xff\xfe", b'"x"']).map(
            lambda p: ("not an object", _sign_raw(lab, p))),
        st.sampled_from(["", "a.b", "a.b.c.d.e", "..", "é.é.é", "x" * 9000]).map(
            lambda t: ("malformed", t)),
    )


def _safe_sign(lab: RunningLab, claims: dict[str, Any]) -> str:
    try:
        return _sign_raw(lab, json.dumps(claims).encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        return jar.unsigned({"iss": "tpp"})


@pytest.mark.timeout(900)
@pytest.mark.parametrize("on", [(), JAR_ON], ids=["off", "on"])
def test_bad_request_objects_never_cause_a_server_error(lab: RunningLab, controls: Any,
                                                        on: tuple[str, ...]) -> None:
    controls.only(*on)
    client = lab.apps["as"].test_client()

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=_objects(lab), pushed=st.booleans())
    def one(case: tuple[str, str], pushed: bool) -> None:
        kind, request = case
        if pushed:
            data = {"client_id": "tpp", "request": request,
                    **assertion_params(client_assertion(lab))}
            r = client.post("/par", base_url=lab.config.as_url, data=data)
        else:
            r = client.get("/authorize", base_url=lab.config.as_url,
                           query_string={"client_id": "tpp", "request": request},
                           headers={"Accept": "application/json"})
        assert r.status_code < 500, (kind, r.status_code)
        if r.status_code >= 400 and r.is_json:
            body = r.get_json()
            assert request[:30] not in body.get("error_description", "") or len(request) < 8
            if on and kind not in ("edge claims",):
                assert body["error"] in ("invalid_request_object", "invalid_request"), \
                    (kind, body)
        elif on:
            assert kind == "edge claims", (kind, r.status_code)   # every other class refused

    one()
    clock.reset(lab.store)
