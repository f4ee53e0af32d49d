"""Malformed RFC 9421 / RFC 9530 fields with a genuine token: 401 invalid_request, never a 5xx.

With http_message_signing on, the bank parses Signature, Signature-Input and Content-Digest
(structured fields, RFC 9651) from whoever calls it; FinLens parses the bank's. Wrong syntax,
huge values, deep nesting, unknown algorithms, duplicate labels, parameters of the wrong type:
each is a refusal with the control's event, never a server error, a hang or unbounded work.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock, context, keys
from lab.controls import events as lab_events
from lab.jose import http_signatures as sig
from lab.serving.in_process import RunningLab
from lab.tpp import http_signing
from tests.support.bank_tokens import ensure_bank_knows_as_keys, mint

SIG = "fapi=:" + "A" * 86 + "==:"
INPUT = '("@method" "@target-uri" "authorization");created={now};keyid="{kid}";tag="fapi-2-request"'
SF_JUNK = st.sampled_from([
    "", " ", "fapi", "fapi=", "fapi=(", "fapi=)", "fapi=((\"@method\"))", "fapi=:not base64!:",
    "fapi=:" + "A" * 20000 + ":", "(" * 5000, "fapi=" + "(" * 3000 + ")" * 3000,
    "fapi=();created=1", 'fapi=("@method");created="1"', 'fapi=("@method");created=1.5',
    'fapi=("@method");created=99999999999999999', 'fapi=("@method");created=-999999999999999',
    'fapi=("@method");alg="hs2019"', 'fapi=("@method");alg="none"', 'fapi=("@method");alg="jws"',
    'fapi=("@method"), fapi=("@method")', "fapi=:AA==:, fapi=:AA==:", 'fapi=("@nope")',
    'fapi=("@query-param";name=1)', 'fapi=("authorization";key="x")', 'fapi=("AUTHORIZATION")',
    'fapi=("@status")', 'fapi=("signature";req)', 'fapi=("x";bs;sf)', "\u00e9", "\x00", "\r\n",
    'fapi=("@method" "@method")', "a=1, " * 1500, 'fapi=?1', "fapi=%\"x\"", "fapi=@123",
    'fapi=("@method");keyid=("a")', 'fapi=("@method");tag=fapi-2-request',
])
DIGEST = st.sampled_from([
    "", "sha-256=:AA==:", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:", "sha-256=abc", "sha-256=:"
    + "A" * 43 + "=:, sha-256=:" + "A" * 43 + "=:", "sha-512=:" + "A" * 86 + "==:", "(" * 4000,
    "sha-256=(:AA==:)", "unknown=:AA==:", "sha-256=:" + "A" * 10000 + ":"])


def _input(now: int, kid: str) -> st.SearchStrategy[str]:
    """Signature-Input near the real thing, mutated: extra labels, bad values, other tags."""
    base = "fapi=" + INPUT.format(now=now, kid=kid)
    return st.one_of(SF_JUNK, st.just(base), st.builds(lambda junk: base + junk, st.sampled_from([
        ";expires=1", ";nonce=1", ";unknown=1", ", fapi=()", ", other=(\"@method\")", ";alg=\"x\"",
        ", other=" + INPUT.format(now=now, kid=kid), ";keyid=\"other\"", "(" * 100])),
        st.text(max_size=200))


@pytest.fixture(scope="module")
def token(lab: RunningLab) -> str:
    ensure_bank_knows_as_keys(lab)
    return mint(lab, client_id="tpp", lifetime=3600).token


def test_the_bank_refuses_malformed_signature_fields_with_invalid_request(lab, controls, token):
    controls.only("http_message_signing")
    client = lab.apps["bank"].test_client()
    kid = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "tpp"), "ES256")["kid"]
    now = clock.now_int(lab.store)

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(signature=st.one_of(SF_JUNK, st.just(SIG)), signature_input=_input(now, kid),
           digest=st.one_of(st.none(), DIGEST), post=st.booleans())
    def one(signature: str, signature_input: str, digest: str | None, post: bool) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "Signature": signature, "Signature-Input": signature_input}
        if digest is not None:
            headers["Content-Digest"] = digest
        started = time.monotonic()
        try:
            if post:
                response = client.post("/payments", data=json.dumps({"x": 1}), headers=headers,
                                       content_type="application/json",
                                       base_url=lab.config.bank_url)
            else:
                response = client.get("/accounts", headers=headers, base_url=lab.config.bank_url)
        except (UnicodeEncodeError, ValueError):
            return   # not sendable as a header at all (a newline, a non-Latin-1 character)
        assert time.monotonic() - started < 5, (signature[:80], signature_input[:80])
        if response.status_code == 431:   # over the lab's 32 KiB for all headers: refused first
            assert response.get_json()["error"] == "request_header_too_large"
            return
        assert response.status_code == 401, (signature[:80], signature_input[:80], digest,
                                             response.get_data()[:300])
        assert response.get_json()["error"] == "invalid_request"

    one()


def test_finlens_refuses_malformed_answers_with_its_own_error(lab, controls, token):
    """The bank's side of the same fields, as FinLens reads them: only
    BadResponseSignatureError (the control's refusal), never another exception."""
    controls.only("http_message_signing")
    http = requests.Session()
    http.trust_env = False
    http.verify = str(lab.config.ca_cert_path)
    sent = requests.Request("GET", lab.config.bank_url + "/accounts",
                            headers={"Authorization": "Bearer x"}).prepare()
    sig.sign_request(sent, None, sig.JWSKey.from_jwk(keys.signing_key(
        keys.ensure_keyset(lab.config.keys_dir, "tpp"), "ES256")), clock.now(lab.store))
    bank_kid = http.get(lab.config.bank_url + "/.well-known/jwks.json").json()["keys"][0]["kid"]
    now = clock.now_int(lab.store)
    answer_input = ('fapi=("@status" "@method";req "@target-uri";req "authorization";req '
                    f'"signature";req;key="fapi" "content-digest");created={now};'
                    f'keyid="{bank_kid}";tag="fapi-2-response"')

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(signature=st.one_of(SF_JUNK, st.just(SIG)),
           signature_input=st.one_of(SF_JUNK, st.just(answer_input),
                                     st.just(answer_input.replace("fapi-2-response", "x"))),
           digest=st.one_of(st.none(), DIGEST), status=st.sampled_from([200, 401, 999]))
    def one(signature: str, signature_input: str, digest: str | None, status: int) -> None:
        response = requests.Response()
        response.status_code = status
        response._content = b'{"accounts": []}'
        response.request = sent
        response.headers.update({"Signature": signature, "Signature-Input": signature_input})
        if digest is not None:
            response.headers["Content-Digest"] = digest
        with context.bound(lab.store, "tpp", request_id="fuzz-answer"), \
                pytest.raises(http_signing.BadResponseSignatureError):
            http_signing.verify(http, lab.config.bank_url, response)

    one()
    assert {e.control for e in lab_events.list_events(lab.store, request_id="fuzz-answer")} \
        == {"http_message_signing"}
