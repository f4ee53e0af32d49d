"""http_message_signing: signed resource requests (RFC 9421, tag fapi-2-request) verified by the
bank against the client's registered keys; signed answers (fapi-2-response) FinLens checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from lab import clock, context, keys
from lab.controls import events as lab_events
from lab.jose import http_signatures as sig
from lab.serving.in_process import RunningLab
from lab.tpp import http_signing
from tests.support.bank_tokens import account, ensure_bank_knows_as_keys, mint
from tests.support.dpop import DPoPKey

CHECKING = account("alice", "checking")
ALL_CONTROLS_OFF: tuple[str, ...] = ()


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def tpp_key(lab: RunningLab) -> sig.JWSKey:
    """FinLens's ES256 key, registered at the AS in the TPP client's JWKS."""
    return sig.JWSKey.from_jwk(keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "tpp"),
                                                "ES256"))


def payment(amount: str = "25.00") -> dict[str, Any]:
    return {"debtor_account_id": CHECKING, "creditor": {"name": "Corner Café",
                                                        "iban": "GB33BUKB20201555555555"},
            "instructed_amount": {"amount": amount, "currency": "EUR"}, "reference": "coffee"}


def prepared(http: requests.Session, lab: RunningLab, method: str, path: str, token: str, *,
             body: dict[str, Any] | None = None, dpop: DPoPKey | None = None
             ) -> requests.PreparedRequest:
    url = lab.config.bank_url + path
    headers = {"Authorization": f"{'DPoP' if dpop else 'Bearer'} {token}",
               "Accept": "application/json"}
    if dpop:
        headers["DPoP"] = dpop.proof(method, url, token=token)
    return http.prepare_request(requests.Request(method, url, headers=headers, json=body))


def signed(http: requests.Session, lab: RunningLab, method: str, path: str, token: str, *,
           key: sig.JWSKey | None = None, created: float | None = None, **kw: Any
           ) -> requests.PreparedRequest:
    request = prepared(http, lab, method, path, token, **kw)
    body = request.body if isinstance(request.body, bytes) else None
    sig.sign_request(request, body, key or tpp_key(lab),
                     clock.now(lab.store) if created is None else created)
    return request


def token(lab: RunningLab, **extra: Any) -> str:
    return mint(lab, client_id="tpp", lifetime=3600, **extra).token


def refused(response: requests.Response, fired: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_request"
    assert fired(response) == ["http_message_signing"]


def test_unsigned_and_altered_requests_are_served_when_off(lab, controls, http, fired):
    controls.only(*ALL_CONTROLS_OFF)
    at = token(lab)
    r = http.send(prepared(http, lab, "GET", "/accounts", at))
    assert r.status_code == 200, r.text
    assert "Signature" not in r.headers
    # payment-replay-altered-body: the signed request's headers with another body.
    original = signed(http, lab, "POST", "/payments", at, body=payment())
    altered = original.copy()
    altered.prepare_body(None, None, json=payment("2500.00"))
    r = http.send(altered)
    assert r.status_code == 201, r.text
    assert r.json()["instructed_amount"]["amount"] == "2500.00"
    assert fired(r) == []


def test_a_signed_request_is_served_and_the_answer_is_signed_when_on(lab, controls, http, fired):
    controls.only("http_message_signing")
    request = signed(http, lab, "POST", "/payments", token(lab), body=payment())
    assert "content-digest" in request.headers["Signature-Input"]
    r = http.send(request)
    assert r.status_code == 201, r.text
    assert fired(r) == []
    bank = sig.key_set(http.get(lab.config.bank_url + "/.well-known/jwks.json").json())
    answer = sig.Response(r.status_code, sig.Request(request.method or "", request.url or "",
                                                     sig.Fields(request.headers.items())),
                          sig.Fields(r.headers.items()))
    assert sig.verify_response(answer, r.content, bank, clock.now(lab.store))["label"] == "fapi"
    assert 'tag="fapi-2-response"' in r.headers["Signature-Input"]
    assert '"signature";req;key="fapi"' in r.headers["Signature-Input"]


def test_a_signed_dpop_call_covers_the_proof_when_on(lab, controls, http, fired):
    controls.only("http_message_signing", "dpop_bound_tokens")
    key = DPoPKey(lab)
    request = signed(http, lab, "GET", "/accounts", token(lab, cnf={"jkt": key.jkt}), dpop=key)
    assert '"dpop"' in request.headers["Signature-Input"]
    r = http.send(request)
    assert r.status_code == 200, r.text


def test_the_algorithm_is_the_registered_key_s_ps256_too_when_on(lab, controls, http, fired):
    """RFC 9421 §3.3.7: a JWS algorithm, taken from the key (no alg parameter is sent)."""
    controls.only("http_message_signing")
    ps256 = sig.JWSKey.from_jwk(keys.signing_key(
        keys.ensure_keyset(lab.config.keys_dir, "tpp"), "PS256"))
    request = signed(http, lab, "GET", "/accounts", token(lab), key=ps256)
    assert "alg=" not in request.headers["Signature-Input"]
    assert http.send(request).status_code == 200
    request = signed(http, lab, "GET", "/accounts", token(lab), key=ps256)
    request.headers["Signature-Input"] += ';alg="rsa-pss-sha512"'
    refused(http.send(request), fired)


def test_an_unsigned_request_is_refused_with_invalid_request_when_on(lab, controls, http,
                                                                     fired):
    controls.only("http_message_signing")
    refused(http.send(prepared(http, lab, "GET", "/accounts", token(lab))), fired)


def test_the_altered_body_is_refused_by_its_digest_when_on(lab, controls, http, fired):
    controls.only("http_message_signing")
    original = signed(http, lab, "POST", "/payments", token(lab), body=payment())
    altered = original.copy()
    altered.prepare_body(None, None, json=payment("2500.00"))
    r = http.send(altered)
    refused(r, fired)
    event = lab_events.list_events(lab.store, request_id=r.headers["X-Lab-Request-Id"])[0]
    assert "Content-Digest does not match" in event.reason


def _bad_requests(http: requests.Session, lab: RunningLab) -> dict[str, requests.PreparedRequest]:
    at = token(lab)
    now = clock.now(lab.store)
    other = tpp_key(lab)
    impostor = sig.JWSKey.from_jwk({**json.loads(json.dumps(keys.signing_key(
        keys.ensure_keyset(lab.config.keys_dir, "test-impostor", ("ES256",)), "ES256"))),
        "kid": other.kid})
    stale = signed(http, lab, "GET", "/accounts", at, created=now - 61)
    future = signed(http, lab, "GET", "/accounts", at, created=now + 120)
    wrong_key = signed(http, lab, "GET", "/accounts", at, key=impostor)
    no_auth = prepared(http, lab, "GET", "/accounts", at)
    bare = {k: v for k, v in no_auth.headers.items() if k != "Authorization"}
    holder = requests.Request("GET", no_auth.url, headers=bare).prepare()
    sig.sign_request(holder, None, other, now)
    no_auth.headers["Signature"] = holder.headers["Signature"]
    no_auth.headers["Signature-Input"] = holder.headers["Signature-Input"]
    wrong_tag = signed(http, lab, "GET", "/accounts", at)
    wrong_tag.headers["Signature-Input"] = wrong_tag.headers["Signature-Input"].replace(
        "fapi-2-request", "fapi-2-response")
    other_path = signed(http, lab, "GET", "/accounts", at)
    other_path.url = lab.config.bank_url + f"/accounts/{CHECKING}/balances"
    return {"stale": stale, "future": future, "wrong key": wrong_key,
            "authorization not covered": no_auth, "wrong tag": wrong_tag,
            "another target": other_path}


def test_stale_wrong_and_incomplete_signatures_are_refused_when_on(lab, controls, http, fired):
    controls.only("http_message_signing")
    for name, request in _bad_requests(http, lab).items():
        r = http.send(request)
        assert r.status_code == 401, (name, r.text)
        assert r.json()["error"] == "invalid_request", name
        assert fired(r) == ["http_message_signing"], name


def test_the_same_bad_requests_are_served_when_off(lab, controls, http, fired):
    controls.only(*ALL_CONTROLS_OFF)
    for name, request in _bad_requests(http, lab).items():
        r = http.send(request)
        assert r.status_code == 200, (name, r.text)


def test_finlens_drops_an_answer_whose_signature_fails_when_on(lab, controls, http):
    controls.only("http_message_signing")
    request = signed(http, lab, "GET", "/accounts", token(lab))
    answer = http.send(request)
    assert answer.status_code == 200
    with context.bound(lab.store, "tpp", request_id="test-bad-answer") as _:
        http_signing.verify(http, lab.config.bank_url, answer)   # the honest answer passes
        answer._content = answer.content.replace(b"Checking", b"Chequing")
        with pytest.raises(http_signing.BadResponseSignatureError):
            http_signing.verify(http, lab.config.bank_url, answer)
    events = lab_events.list_events(lab.store, request_id="test-bad-answer")
    assert [e.control for e in events] == ["http_message_signing"]
    assert "Content-Digest does not match" in events[0].reason


def test_finlens_signs_its_bank_calls_and_shows_a_bad_answer_when_on(lab, controls,
                                                                     monkeypatch):
    """FinLens end to end over TLS: with the control on every bank call is signed and every
    answer checked; an answer whose signature fails is dropped and the dashboard says why."""
    from lab.bank import api as bank_api
    from lab.tpp.driver import TppBrowser, link, user_agent

    controls.profile("fapi2-security")
    controls.set(http_message_signing=True)
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in("alice-httpsig")
    r = link(browser, user_agent(lab.config, lab.store, "alice", accounts=("checking",)))
    assert r.status_code == 303, r.text
    [honest] = browser.dashboard().links
    assert [a.account_id for a in honest.accounts] == [CHECKING]
    real = bank_api.signing.sign_response

    def tampered(*args: Any, **kwargs: Any) -> dict[str, str]:
        headers = real(*args, **kwargs)
        headers["Content-Digest"] = "sha-256=:" + "A" * 43 + "=:"
        return headers

    monkeypatch.setattr(bank_api.signing, "sign_response", tampered)
    page = browser.http.get(browser.url("/dashboard"))
    assert page.status_code == 200
    assert "failed its signature check" in page.text
    # FinLens's refusal is the event of the page request that made the bank call.
    events = lab_events.list_events(lab.store, request_id=page.headers["X-Lab-Request-Id"])
    assert {(e.control, e.component) for e in events} == {("http_message_signing", "tpp")}
    # the signature covers the Content-Digest field itself, so the swapped field breaks it
    assert events[0].reason == "bank response: the signature does not verify"
