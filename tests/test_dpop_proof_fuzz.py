"""Malformed DPoP proofs at the AS (RFC 9449 §4.3), the conformance suite's negative classes as a
hypothesis fuzz: a private key in `jwk`, a symmetric alg, two DPoP headers, an `htu` with a
query, a fragment, another case or another path, each with claims at the edges. Each class gets
its exact answer; no combination gets a 5xx.

What RFC 9449 §4.3 check 9 accepts is accepted: htu is compared "ignoring any query and
fragment parts", and scheme and host are case-insensitive (RFC 3986 §6.2.2.1); the path is not.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.controls import events as lab_events
from lab.web.request_id import HEADER
from tests.support.dpop import DPoPKey, b64url
from tests.support.oauth import pkce_pair, pushed_params, tpp_credentials

SECRET = b"s" * 32
# defect → (status, error, control that fires) with no other change
EXPECTED: dict[str, tuple[int, str | None, str | None]] = {
    "none": (201, None, None),
    "private key in jwk": (400, "invalid_dpop_proof", "dpop_bound_tokens"),
    "alg HS256, oct key in jwk": (400, "invalid_dpop_proof", "dpop_bound_tokens"),
    "alg none": (400, "invalid_dpop_proof", "dpop_bound_tokens"),
    "two DPoP headers": (400, "invalid_dpop_proof", "dpop_bound_tokens"),
    "htu with a query": (201, None, None),
    "htu with a fragment": (201, None, None),
    "htu with scheme and host in upper case": (201, None, None),
    "htu with the default port": (201, None, None),
    "htu with the path in upper case": (400, "invalid_dpop_proof", "dpop_proof_binding"),
    "htu with a trailing slash": (400, "invalid_dpop_proof", "dpop_proof_binding"),
    "htu of another endpoint": (400, "invalid_dpop_proof", "dpop_proof_binding"),
}
EDGE = st.one_of(st.sampled_from([10**400, 2**63, 1e308, -1, 0, "", "é", "\ud800"]),
                 st.integers(), st.text(max_size=20), st.none(),
                 st.lists(st.integers(), max_size=2), st.just(json.loads("[" * 300 + "]" * 300)))
ALLOWED_ERRORS = {"invalid_dpop_proof", "use_dpop_nonce", "invalid_request"}


def _htu(defect: str, url: str) -> str:
    scheme, rest = url.split("://", 1)
    host, path = rest.split("/", 1)
    return {
        "htu with a query": url + "?x=1",
        "htu with a fragment": url + "#f",
        "htu with scheme and host in upper case": f"{scheme.upper()}://{host.upper()}/{path}",
        "htu with the default port": url if ":" in host else f"{scheme}://{host}:443/{path}",
        "htu with the path in upper case": f"{scheme}://{host}/{path.upper()}",
        "htu with a trailing slash": url + "/",
        "htu of another endpoint": f"{scheme}://{host}/token",
    }.get(defect, url)


def _proofs(key: DPoPKey, defect: str, url: str, extra: dict[str, Any]) -> list[str]:
    htu = _htu(defect, url)
    if defect == "private key in jwk":
        return [key.proof("POST", htu, jwk=key.private_jwk, claims=extra)]
    if defect == "alg HS256, oct key in jwk":
        claims = {"jti": "hs", "htm": "POST", "htu": htu, "iat": key.now(), **extra}
        return [jwt.encode(claims, SECRET, algorithm="HS256", headers={
            "typ": "dpop+jwt", "jwk": {"kty": "oct", "k": b64url(SECRET)}})]
    if defect == "alg none":
        claims = {"jti": "none", "htm": "POST", "htu": htu, "iat": key.now(), **extra}
        head = {"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk}
        return [b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())
                + "."]
    proof = key.proof("POST", htu, claims=extra)
    return [proof, key.proof("POST", htu)] if defect == "two DPoP headers" else [proof]


def test_malformed_dpop_proofs_at_par_get_their_exact_answer(lab, controls):
    controls.only("dpop_bound_tokens", "dpop_proof_binding", "dpop_iat_window",
                  "dpop_jti_replay")
    key = DPoPKey(lab)
    client = lab.apps["as"].test_client()
    url = lab.config.as_url + "/par"
    auth = tpp_credentials(lab)

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(defect=st.sampled_from(sorted(EXPECTED)),
           extra=st.one_of(st.just({}), st.dictionaries(
               st.sampled_from(["jti", "htm", "htu", "iat", "nonce", "ath"]), EDGE, max_size=2)))
    def one(defect: str, extra: dict[str, Any]) -> None:
        try:
            proofs = _proofs(key, defect, url, extra)
        except (TypeError, ValueError, OverflowError):
            return  # not encodable as a JWT at all
        _, challenge = pkce_pair()
        data = pushed_params(lab, code_challenge=challenge, code_challenge_method="S256")
        response = client.post("/par", base_url=lab.config.as_url, data=data,
                               auth=auth, headers=[("DPoP", p) for p in proofs])
        body = response.get_json(silent=True) or {}
        case = (defect, extra, response.get_data()[:300])
        assert response.status_code < 500, case
        if extra:
            assert response.status_code == 201 or body.get("error") in ALLOWED_ERRORS, case
            return
        status, error, control = EXPECTED[defect]
        assert response.status_code == status, case
        assert body.get("error") == error, case
        request_id = response.headers.get(HEADER)
        fired = [e.control for e in lab_events.list_events(lab.store, request_id=request_id)
                 if e.kind == "fired"]
        assert fired == ([control] if control else []), case

    one()
