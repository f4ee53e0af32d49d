"""mtls_bound_tokens: tokens requested over mutual TLS carry cnf.x5t#S256, and the bank serves
them only over TLS with that certificate (RFC 8705 §3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lab import pki
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys
from tests.support.dpop import DPoPKey, bank_url, challenge, redeem
from tests.support.oauth import authorize, claims


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _cert(lab: RunningLab, name: str) -> tuple[str, str]:
    pair = pki.client_cert(lab.config.pki_dir, name)
    return str(pair.cert), str(pair.key)


def _thumbprint(lab: RunningLab, name: str) -> str:
    return pki.thumbprint_s256(pki.client_cert(lab.config.pki_dir, name).cert.read_bytes())


@pytest.fixture
def tls(lab: RunningLab) -> Iterator[dict[str, requests.Session]]:
    """One session per TLS client: the TPP's certificate, the attacker's, none."""
    sessions = {}
    for name in ("tpp", "attacker", "none"):
        session = requests.Session()
        session.trust_env = False
        session.verify = str(lab.config.ca_cert_path)
        if name != "none":
            session.cert = _cert(lab, name)
        sessions[name] = session
    yield sessions
    for session in sessions.values():
        session.close()


def _token_over_mtls(lab: RunningLab, session: requests.Session) -> dict:  # type: ignore[type-arg]
    code, verifier = authorize(lab)
    r = redeem(session, lab, None, code, verifier)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _metadata(http, lab):  # type: ignore[no-untyped-def]
    return http.get(lab.config.issuer + "/.well-known/oauth-authorization-server").json()


def test_token_is_unbound_and_works_from_any_tls_client_when_off(lab, controls, http, tls, fired):
    controls.only()
    token = _token_over_mtls(lab, tls["tpp"])["access_token"]
    assert "cnf" not in claims(token)
    r = tls["attacker"].get(bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 200, r.text
    assert fired(r) == []
    assert "tls_client_certificate_bound_access_tokens" not in _metadata(http, lab)


def test_token_is_bound_to_the_client_certificate_when_on(lab, controls, http, tls, fired):
    controls.only("mtls_bound_tokens")
    body = _token_over_mtls(lab, tls["tpp"])
    assert body["token_type"] == "Bearer"
    assert claims(body["access_token"])["cnf"] == {"x5t#S256": _thumbprint(lab, "tpp")}
    assert _metadata(http, lab)["tls_client_certificate_bound_access_tokens"] is True
    r = tls["tpp"].get(bank_url(lab, "/accounts"), headers=bearer(body["access_token"]))
    assert r.status_code == 200, r.text
    assert fired(r) == []


@pytest.mark.parametrize("client", ["attacker", "none"])
def test_token_used_over_another_tls_client_is_refused_with_invalid_token_when_on(
        lab, controls, tls, fired, client):
    """at-replay-own-client-cert (and the same without any certificate)."""
    controls.only("mtls_bound_tokens")
    token = _token_over_mtls(lab, tls["tpp"])["access_token"]
    r = tls[client].get(bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert challenge(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert fired(r) == ["mtls_bound_tokens"]


def test_token_request_over_plain_tls_gets_no_binding_when_on(lab, controls, tls):
    controls.only("mtls_bound_tokens")
    assert "cnf" not in claims(_token_over_mtls(lab, tls["none"])["access_token"])


# --- with DPoP on as well: FAPI2 §5.3.2.1 "MTLS ... or DPoP" ---------------------------------

def test_mtls_replaces_the_dpop_proof_when_both_are_on(lab, controls, tls, fired):
    controls.only("mtls_bound_tokens", "dpop_bound_tokens")
    token = _token_over_mtls(lab, tls["tpp"])["access_token"]
    r = tls["tpp"].get(bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 200, r.text
    r = tls["attacker"].get(bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 401
    # Bearer stays on offer (certificate-bound tokens use it) next to DPoP.
    assert challenge(r).startswith('DPoP realm="HonestBank", error="invalid_token"')
    assert 'Bearer realm="HonestBank", error="invalid_token"' in challenge(r)
    assert fired(r) == ["mtls_bound_tokens"]


def test_without_certificate_or_proof_the_token_request_is_refused_when_both_are_on(
        lab, controls, tls, fired):
    controls.only("mtls_bound_tokens", "dpop_bound_tokens")
    code, verifier = authorize(lab)
    r = redeem(tls["none"], lab, None, code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]
    r = redeem(tls["none"], lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
