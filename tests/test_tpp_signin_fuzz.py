"""Hypothesis over FinLens's sign-in callback past the parsing: ID tokens whose claims sit at
the edges (sub, iss, aud, azp, nonce, c_hash, exp, iat as huge numbers, lists, nulls,
control characters, 3000-character text), unsigned for the legacy FinLens that believes
them, and signed with the AS's own key for the one that validates them. Every answer is
a readable 4xx page or a sign-in, never a 500 (the route fuzz of test_bad_input_fuzz.py
covers the parameters themselves)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import _private_key, as_private_keys
from tests.test_bad_input_fuzz import EDGE_NUMBERS, json_text

CLAIMS = ["sub", "iss", "aud", "azp", "nonce", "c_hash", "at_hash", "exp", "iat"]
edge = st.one_of(st.sampled_from(EDGE_NUMBERS), json_text, st.integers(), st.none(),
                 st.lists(json_text, max_size=3), st.just("x" * 300), st.just("tpp"))


def _signed(lab: RunningLab, claims: dict[str, Any]) -> str:
    jwk = next(k for k in as_private_keys(lab) if k.get("alg", "ES256") == "ES256")
    return jwt.encode(claims, _private_key(jwk), algorithm="ES256",
                      headers={"kid": jwk["kid"]})


@pytest.mark.timeout(600)
@pytest.mark.parametrize("validating", [False, True])
def test_id_tokens_with_edge_claims_never_cause_a_server_error(
        lab: RunningLab, controls: Any, validating: bool) -> None:
    controls.only(*(["tpp_id_token_validation", "tpp_checks_nonce"] if validating else []))
    client = lab.apps["tpp"].test_client()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(overrides=st.dictionaries(st.sampled_from(CLAIMS), edge, min_size=1, max_size=4),
           code=st.one_of(st.none(), json_text), state=st.one_of(st.none(), json_text))
    def one(overrides: dict[str, Any], code: str | None, state: str | None) -> None:
        now = clock.now_int(lab.store)
        claims = {"iss": lab.config.issuer, "sub": "alice", "aud": "tpp", "iat": now,
                  "exp": now + 300, **overrides}
        try:
            json.dumps(claims).encode()
            token = _signed(lab, claims) if validating else jwt.encode(
                claims, None, algorithm="none")
        except (ValueError, TypeError, UnicodeEncodeError):
            return   # not a JWT one could send
        form = {"id_token": token, **({"code": code} if code is not None else {}),
                **({"state": state} if state is not None else {})}
        try:
            r = client.post("/signin/callback", base_url=lab.config.tpp_url, data=form,
                            headers={"Accept": "text/html"})
        except UnicodeEncodeError:
            return
        assert r.status_code < 500, (claims, r.get_data()[:300])
        assert r.status_code in (303, 400), (claims, r.status_code)

    one()
