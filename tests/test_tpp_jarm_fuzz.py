"""Hypothesis over FinLens's link callback with a JARM `response` (JARM §2.3): JWTs whose
claims sit at the edges (code, state, iss, aud, exp, error as huge numbers, lists, nulls,
control characters, long text), under every alg FinLens may be handed (none, an HMAC, the
AS's own key), for the legacy FinLens that reads them unchecked and for the one whose jarm
control checks them. Every answer is a readable 4xx page or a link, never a 500 (the route
fuzz of test_bad_input_fuzz.py sends `response` with malformed JWTs too)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import _private_key, as_private_keys
from tests.test_bad_input_fuzz import EDGE_NUMBERS, json_text

CLAIMS = ["code", "state", "iss", "aud", "exp", "error", "error_description", "expires_in"]
edge = st.one_of(st.sampled_from(EDGE_NUMBERS), json_text, st.integers(), st.none(),
                 st.lists(json_text, max_size=3), st.just("x" * 3000), st.just("tpp"),
                 st.recursive(st.none(), lambda inner: st.lists(inner, max_size=2),
                              max_leaves=40))
ALGS = ["none", "HS256", "ES256"]


def _token(lab: RunningLab, claims: dict[str, Any], alg: str) -> str:
    jwk = next(k for k in as_private_keys(lab) if k.get("alg", "ES256") == "ES256")
    if alg == "none":
        return jwt.encode(claims, None, algorithm="none")
    if alg == "HS256":
        return jwt.encode(claims, "a-secret-anybody-could-choose-32b", algorithm="HS256",
                          headers={"kid": jwk["kid"]})
    return jwt.encode(claims, _private_key(jwk), algorithm="ES256", headers={"kid": jwk["kid"]})


@pytest.mark.timeout(600)
@pytest.mark.parametrize("checking", [False, True])
def test_jarm_responses_with_edge_claims_never_cause_a_server_error(
        lab: RunningLab, controls: Any, checking: bool) -> None:
    controls.only(*(["jarm", "tpp_referrer_policy"] if checking else ["tpp_referrer_policy"]))
    client = lab.apps["tpp"].test_client()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(overrides=st.dictionaries(st.sampled_from(CLAIMS), edge, min_size=1, max_size=4),
           alg=st.sampled_from(ALGS), extra=st.one_of(st.none(), json_text))
    def one(overrides: dict[str, Any], alg: str, extra: str | None) -> None:
        now = clock.now_int(lab.store)
        claims = {"iss": lab.config.issuer, "aud": "tpp", "exp": now + 300, "code": "c",
                  "state": "s", **overrides}
        try:
            json.dumps(claims).encode()
            token = _token(lab, claims, alg)
        except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
            return   # not a JWT one could send
        query = {"response": token, **({"code": extra} if extra is not None else {})}
        try:
            r = client.get("/callback?" + urlencode(query), base_url=lab.config.tpp_url,
                           headers={"Accept": "text/html"})
        except UnicodeEncodeError:
            return
        assert r.status_code < 500, (claims, r.get_data()[:300])
        assert r.status_code in (303, 400, 404, 502), (claims, r.status_code)

    one()
