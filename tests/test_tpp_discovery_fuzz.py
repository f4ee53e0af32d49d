"""Any discovery document an institution serves: metadata() returns it or refuses with a TPP
abort (temporarily_unavailable, or mix_up_detected for another issuer, RFC 8414 §3.3), never
another exception — whichever way tpp_checks_iss is switched."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import context
from lab.tpp import institutions
from lab.tpp.errors import TppError

ISSUER = "https://127.0.0.1:9448"
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
DOCUMENTS = st.one_of(
    JSON,
    st.fixed_dictionaries({"issuer": st.one_of(st.just(ISSUER), st.text(max_size=40),
                                                st.text(min_size=2040, max_size=2100), JSON),
                           "authorization_endpoint": st.one_of(st.just(ISSUER + "/a"), JSON),
                           "token_endpoint": st.one_of(st.just(ISSUER + "/t"), JSON)}))


class _Served:
    def __init__(self, body: Any) -> None:
        self.status_code, self._body = 200, body

    def json(self) -> Any:
        return self._body


@pytest.mark.parametrize("on", [False, True])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS)
def test_any_discovery_document_is_used_or_refused(lab, controls, monkeypatch, on, document):  # type: ignore[no-untyped-def]
    if on:
        controls.only("tpp_checks_iss")
    else:
        controls.only()
    # Only this module's requests: the lab's other servers run in this process too.
    monkeypatch.setattr(institutions, "requests", SimpleNamespace(
        get=lambda *a, **k: _Served(document), RequestException=requests.RequestException))
    institutions.forget_metadata()
    inst = institutions.Institution("fuzzbank", "FuzzBank", ISSUER, ISSUER)
    with context.bound(lab.store, "tpp", request_id=f"fuzz-{secrets.token_hex(4)}"):
        try:
            meta = institutions.metadata(inst, str(lab.config.ca_cert_path))
        except TppError:
            return
    assert isinstance(meta["issuer"], str) and len(meta["issuer"]) <= institutions.MAX_ISSUER
    assert meta["issuer"] == ISSUER or not on
    institutions.forget_metadata()
