"""Payment consents end to end at the AS (RFC 9396): PAR with authorization_details, the
consent page in plain words, the granted details in the token response, the access token
and introspection; bad details refused with invalid_authorization_details (§5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from lab.serving.in_process import RunningLab
from tests.support import dpop as dpop_support
from tests.support import oauth
from tests.support.bank_tokens import account
from tests.support.payments import CAFE, CAFE_IBAN

SCOPE = "openid payments:write"


def details(**changes: Any) -> list[dict[str, Any]]:
    item: dict[str, Any] = {
        "type": "payment_initiation",
        "instructedAmount": {"amount": "25.00", "currency": "EUR"},
        "creditorName": "Corner Café", "creditorAccount": {"iban": CAFE_IBAN},
        "remittanceInformationUnstructured": CAFE.reference}
    item.update(changes)
    return [item]


BAD: dict[str, str] = {
    "not JSON": "[{",
    "not an array": json.dumps(details()[0]),
    "empty": "[]",
    "oversized": json.dumps(details(remittanceInformationUnstructured="x" * 5000)),
    "unknown type": json.dumps(details(type="account_information")),
    "unknown field": json.dumps(details(debtorName="x")),
    "negative": json.dumps(details(instructedAmount={"amount": "-25.00", "currency": "EUR"})),
    "zero": json.dumps(details(instructedAmount={"amount": "0.00", "currency": "EUR"})),
    "a number": json.dumps(details(instructedAmount={"amount": 25, "currency": "EUR"})),
    "exponent": json.dumps(details(instructedAmount={"amount": "2.5e1", "currency": "EUR"})),
    "three decimals": json.dumps(details(instructedAmount={"amount": "25.001",
                                                           "currency": "EUR"})),
    "not ISO 4217": json.dumps(details(instructedAmount={"amount": "25.00", "currency": "EUX"})),
    "IBAN checksum": json.dumps(details(creditorAccount={"iban": "DE89370400440532013001"})),
    "no creditor": json.dumps([{k: v for k, v in details()[0].items()
                                if k != "creditorName"}]),
    "two payments": json.dumps(details() * 2),
}


def _push(http: requests.Session, lab: RunningLab, value: str) -> requests.Response:
    verifier, challenge = oauth.pkce_pair()
    return oauth.push(http, lab, scope=SCOPE, authorization_details=value,
                      code_challenge=challenge, code_challenge_method="S256")


@pytest.mark.parametrize("case", list(BAD))
def test_bad_authorization_details_are_refused_at_par(lab, controls, http, case):
    controls.profile("fapi2-security")
    r = _push(http, lab, BAD[case])
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_authorization_details", r.text


def test_bad_authorization_details_go_back_to_the_client_without_par(lab, controls):
    controls.only()
    result = oauth.run(lab, scope=SCOPE, authorization_details=BAD["IBAN checksum"])
    assert result.error == "invalid_authorization_details", result.params


def test_payment_consent_is_shown_granted_and_carried(lab, controls, http):
    controls.profile("fapi2-security")
    verifier, challenge = oauth.pkce_pair()
    r = oauth.push(http, lab, scope=SCOPE, authorization_details=json.dumps(details()),
                   code_challenge=challenge, code_challenge_method="S256")
    assert r.status_code == 201, r.text
    pages: dict[str, str] = {}
    result = oauth.victim(lab).authorize(
        oauth.par_authorization_url(lab, r.json()["request_uri"]),
        on_step=lambda step, response: pages.__setitem__(step, response.text))
    consent = pages["consent"]
    for words in ("25.00 EUR", "Corner Café", CAFE_IBAN, CAFE.reference):
        assert words in consent
    assert result.code, result.params
    key = dpop_support.DPoPKey(lab)
    token = dpop_support.redeem(http, lab, key, result.code, verifier,
                                client_auth=dpop_support.tpp_assertion(lab))
    assert token.status_code == 200, token.text
    body = token.json()
    granted = body["authorization_details"]
    assert granted[0]["instructedAmount"] == {"amount": "25.00", "currency": "EUR"}
    assert granted[0]["debtorAccount"]["account_id"] == account("alice", "checking")
    assert oauth.claims(body["access_token"])["authorization_details"] == granted
    introspected = http.post(lab.config.as_url + "/introspect",
                             data={"token": body["access_token"],
                                   **oauth.assertion_params(oauth.client_assertion(lab), "tpp")})
    assert introspected.json()["authorization_details"] == granted
