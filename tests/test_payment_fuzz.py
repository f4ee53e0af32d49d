"""Hypothesis over payment consents and payments: every class of bad input is refused.

Each example starts from the good 25.00 EUR payment to Corner Café and applies one
mutation drawn from the classes the lab refuses (malformed or oversized JSON, unknown
types or fields, negative, zero or non-decimal amounts, non-ISO-4217 currencies, IBANs
failing mod 97, more than one payment), with random content where it has some, so
Hypothesis can reach each class: the AS refuses it with invalid_authorization_details,
never a 5xx; the good request gets the login page. At the bank, with a consent bound, no
body other than the consented payment (tampered, to the debtor's own account, with a
reused Idempotency-Key) ever books money.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.domain import payment_consents
from lab.domain.payment_consents import DetailsError
from tests.support import oauth
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys
from tests.support.payments import CAFE, CAFE_IBAN, balance, body, consented

GOOD: dict[str, Any] = {
    "type": "payment_initiation",
    "instructedAmount": {"amount": "25.00", "currency": "EUR"},
    "creditorName": "Corner Café", "creditorAccount": {"iban": CAFE_IBAN},
    "remittanceInformationUnstructured": "Coffee"}
NOT_DECIMAL = st.one_of(st.integers(), st.floats(), st.booleans(), st.none(),
                        st.sampled_from(["-25.00", "0", "0.00", "2.5e1", "25.001", "25,00",
                                         " 25.00", "+25", "NaN", "1" * 12, ".5", "25."]))


def _with(path: tuple[str, ...], value: Any) -> list[dict[str, Any]]:
    item = json.loads(json.dumps(GOOD))
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return [item]


def _bad_iban(text: str) -> str:
    """A well-shaped IBAN whose check digits are wrong (one digit of the BBAN changed)."""
    last = (int(CAFE_IBAN[-1]) + 1 + len(text) % 8) % 10
    return CAFE_IBAN[:-1] + str(last)


MUTATIONS: dict[str, Any] = {
    "malformed JSON": st.text(max_size=40).map(lambda t: "[{" + t),
    "not an array": st.just(json.dumps(GOOD)),
    "oversized": st.integers(4100, 9000).map(lambda n: json.dumps(
        _with(("remittanceInformationUnstructured",), "x" * n))),
    "unknown type": st.text(max_size=20).filter(lambda t: t != "payment_initiation").map(
        lambda t: json.dumps(_with(("type",), t))),
    "unknown field": st.text(min_size=1, max_size=20).filter(
        lambda t: t not in payment_consents.FIELDS).map(
        lambda t: json.dumps([{**GOOD, t: "x"}])),
    "bad amount": NOT_DECIMAL.map(lambda v: json.dumps(_with(("instructedAmount", "amount"),
                                                             v))),
    "bad currency": st.text(max_size=5).filter(lambda t: not payment_consents.iban.
                                               currency_known(t)).map(
        lambda t: json.dumps(_with(("instructedAmount", "currency"), t))),
    "IBAN checksum": st.text(max_size=5).map(lambda t: json.dumps(
        _with(("creditorAccount", "iban"), _bad_iban(t)))),
    "two payments": st.just(json.dumps([GOOD, GOOD])),
}
CASES = st.one_of(st.just(("good", json.dumps([GOOD]))),
                  *[s.map(lambda v, k=k: (k, v)) for k, s in MUTATIONS.items()])
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(case=CASES)
def test_each_class_of_bad_details_is_refused_by_the_parser(case: tuple[str, str]) -> None:
    kind, value = case
    if kind == "good":
        assert payment_consents.parse(value).amount_cents == 2500
        return
    with pytest.raises(DetailsError):
        payment_consents.parse(value)


def test_the_authorization_endpoint_refuses_each_class_without_a_server_error(lab, controls):
    controls.only()
    client = lab.apps["as"].test_client()
    seen: set[str] = set()

    @FUZZ
    @given(case=CASES)
    def one(case: tuple[str, str]) -> None:
        kind, value = case
        seen.add(kind)
        url = oauth.authorization_url(lab, scope="openid payments:write",
                                      authorization_details=value)
        parts = urlsplit(url)
        response = client.get(f"{parts.path}?{parts.query}", base_url=lab.config.as_url)
        assert response.status_code < 500, (kind, value[:200])
        if kind == "good":
            assert response.status_code == 200, response.get_data()[:300]
            return
        assert response.status_code == 302, (kind, response.status_code)
        answer = parse_qs(urlsplit(response.headers["Location"]).query)
        assert answer["error"] == ["invalid_authorization_details"], (kind, answer)

    one()
    assert seen == {"good", *MUTATIONS}, seen


PAYMENT_CHANGES = st.one_of(
    st.fixed_dictionaries({"amount": NOT_DECIMAL | st.sampled_from(["2500.00", "25.01"])}),
    st.fixed_dictionaries({"currency": st.sampled_from(["USD", "EUX", "eur", ""])}),
    st.fixed_dictionaries({"iban": st.sampled_from([_bad_iban(""), "DE89370400440532013000",
                                                    "not an iban"])}),
    st.fixed_dictionaries({"name": st.text(max_size=80)}),
    st.fixed_dictionaries({"own": st.just(True)}),
    st.fixed_dictionaries({"debtor_type": st.sampled_from(["savings", "credit_card"])}),
)


def test_the_bank_books_no_payment_but_the_consented_one(lab, controls):
    ensure_bank_knows_as_keys(lab)
    controls.only("payment_consent_binding")
    minted = consented(lab)
    client = lab.apps["bank"].test_client()
    headers = {**bearer(minted.token), "Accept": "application/json"}
    start = balance(lab, "alice")
    booked: list[dict[str, Any]] = []

    @FUZZ
    @given(changes=PAYMENT_CHANGES, key=st.booleans())
    def one(changes: dict[str, Any], key: bool) -> None:
        changes = dict(changes)
        debtor_type = changes.pop("debtor_type", "checking")
        if changes.pop("own", False):
            own = payment_consents.ledger.get_account(lab.store, account("alice", debtor_type))
            changes["iban"] = own["iban"] if own else ""
        sent = body(debtor_type=debtor_type, **changes)
        extra = {"Idempotency-Key": "fuzz-one-key"} if key else {}
        response = client.post("/payments", data=json.dumps(sent), base_url=lab.config.bank_url,
                               headers={**headers, **extra}, content_type="application/json")
        assert response.status_code < 500, (sent, response.get_data()[:300])
        if response.status_code == 201:
            booked.append(response.get_json())

    one()
    # Whatever was sent, at most the consented payment was booked, and only once.
    assert all(p["instructed_amount"]["amount"] == "25.00" and
               p["creditor"]["iban"] == CAFE.creditor_iban for p in booked), booked
    assert len({p["payment_id"] for p in booked}) <= 1
    assert balance(lab, "alice") == start - 2500 * len({p["payment_id"] for p in booked})


def test_a_good_payment_to_the_debtor_itself_is_refused(lab, controls, http):
    ensure_bank_knows_as_keys(lab)
    controls.only()
    minted = consented(lab)
    own = payment_consents.ledger.get_account(lab.store, account("alice", "checking"))
    assert own is not None
    before = balance(lab, "alice")
    r = http.post(lab.config.bank_url + "/payments", json=body(iban=own["iban"]),
                  headers=bearer(minted.token))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    assert balance(lab, "alice") == before
