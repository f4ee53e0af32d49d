"""Bad input to the bank with a *genuine* token: every 4xx, never a 5xx.

The lab-wide fuzz test sends malformed tokens; this one gets past the token
checks, so the parameter, path and body validation behind them is exercised too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys, mint

ODD = st.sampled_from(["", " ", "0", "-1", "1e400", "99999999999999999999", "ü", "\x00", '"',
                       "\\", "2026-13-45", "2024-02-29", "acc-nope", "NaN", "1.005", "25.00",
                       "GB63HNST00000000000001", "EUR", "€", "\r\n", "\u202e", "\x1b[0m",
                       str(10**400), "x" * 3000, "9999-12-31", "10000-01-01"])
EDGE_NUMBERS = [10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, -1e308, 253402300800]
TEXT = st.one_of(st.text(max_size=30), ODD)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
    | st.sampled_from(EDGE_NUMBERS) | st.text(alphabet=st.characters(categories=["Cs"]),
                                              max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["debtor_account_id", "creditor", "instructed_amount", "reference",
                         "name", "iban", "amount", "currency"]), inner, max_size=5),
    max_leaves=12)
QUERY = st.dictionaries(st.sampled_from(["from", "to", "page", "page_size", "x"]), TEXT,
                        max_size=4)
PATH_ID = st.one_of(st.just(account("alice", "checking")), st.just(account("bob", "savings")),
                    st.text(alphabet=st.characters(blacklist_categories=("Cs",),  # type: ignore[arg-type]
                                                   blacklist_characters="/?#%"),
                            min_size=1, max_size=20))


@pytest.fixture(scope="module")
def token(lab: RunningLab) -> str:
    ensure_bank_knows_as_keys(lab)
    return mint(lab, lifetime=3600).token


def test_bank_never_answers_bad_input_with_a_server_error(lab, controls, token):
    controls.only("token_expiry_check", "aud_check", "scope_check", "consent_per_account",
                  "alg_allow_list", "trusted_keys_only", "at_revocation_check")
    client = lab.apps["bank"].test_client()
    headers = {**bearer(token), "Accept": "application/json"}

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(endpoint=st.sampled_from(["balances", "transactions", "payments", "accounts"]),
           account_id=PATH_ID, query=QUERY, body=JSON,
           content_type=st.sampled_from(["application/json", "text/plain",
                                         "application/x-www-form-urlencoded", ""]))
    def one(endpoint: str, account_id: str, query: dict[str, str], body: Any,
            content_type: str) -> None:
        if endpoint == "payments":
            response = client.post("/payments", data=json.dumps(body), headers=headers,
                                   content_type=content_type or None,
                                   base_url=lab.config.bank_url)
        else:
            path = "/accounts" if endpoint == "accounts" else \
                f"/accounts/{account_id}/{endpoint}"
            response = client.get(path, query_string=query, headers=headers,
                                  base_url=lab.config.bank_url)
        assert response.status_code < 500, (endpoint, account_id, query, body,
                                             response.get_data()[:300])

    one()


FORM = st.dictionaries(st.sampled_from(["username", "password", "code", "csrf_token",
                                        "grant_id", "x"]), TEXT, max_size=5)


def test_bank_pages_never_answer_bad_forms_with_a_server_error(lab):
    client = lab.apps["bank"].test_client()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(["/login", "/login/code", "/logout", "/connected-apps/revoke",
                                 "/connected-apps", "/"]),
           method=st.sampled_from(["GET", "POST"]), form=FORM,
           state=st.sampled_from(["none", "pending-alice", "pending-bob", "signed-in",
                                  "pending-ghost"]),
           accept=st.sampled_from(["text/html", "application/json", "*/*"]),
           page=st.one_of(st.none(), TEXT))
    def one(path: str, method: str, form: dict[str, str], state: str, accept: str,
            page: str | None) -> None:
        with client.session_transaction(base_url=lab.config.bank_url) as session:
            session.clear()
            session["csrf"] = "t"
            if state.startswith("pending-"):
                session["pending_user"] = state.removeprefix("pending-")
            elif state == "signed-in":
                session["user"] = "alice"
        if form.get("csrf_token") == "":
            form["csrf_token"] = "t"
        response = client.open(path, method=method, data=form, headers={"Accept": accept},
                               query_string={} if page is None else {"page": page},
                               base_url=lab.config.bank_url)
        assert response.status_code < 500, (path, method, form, state, page,
                                             response.get_data()[:300])

    one()


def test_bank_never_answers_edge_dpop_proofs_with_a_server_error(lab, controls):
    """Signed DPoP proofs for a genuine DPoP-bound token, with iat and other claims at the edges
    (numbers past a float or a date, odd types, nesting): a 401, never a 5xx."""
    from tests.support.dpop import DPoPKey

    controls.only("dpop_bound_tokens", "dpop_iat_window", "dpop_jti_replay",
                  "dpop_proof_binding", "token_expiry_check")
    key = DPoPKey(lab)
    token = mint(lab, lifetime=3600, cnf={"jkt": key.jkt}).token
    client = lab.apps["bank"].test_client()
    url = lab.config.bank_url + "/accounts"
    edge = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(), st.floats(allow_nan=False),
                     TEXT, st.none(), st.lists(st.integers(), max_size=2),
                     st.just(json.loads("[" * 500 + "]" * 500)))

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(iat=edge, extra=st.dictionaries(st.sampled_from(["jti", "htm", "htu", "ath", "nonce",
                                                            "exp", "nbf"]), edge, max_size=2))
    def one(iat: Any, extra: dict[str, Any]) -> None:
        try:
            proof = key.proof("GET", url, token=token, iat=iat, claims=extra)
        except (TypeError, ValueError, OverflowError):
            return  # not encodable as a JWT at all
        response = client.get("/accounts", headers={"Authorization": f"DPoP {token}",
                                                    "DPoP": proof, "Accept": "application/json"},
                              base_url=lab.config.bank_url)
        assert response.status_code < 500, (iat, extra, response.get_data()[:300])

    one()
