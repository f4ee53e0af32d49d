"""tpp_per_as_keys: a distinct DPoP key and client certificate for each institution.

FAPI2 §6.3; attacks.md `cuckoos-token`. Nothing is refused at the TPP: a token bound to
the TPP's HonestBank key, handed back by another institution's entry, fails at the bank
through dpop_bound_tokens.
"""

from __future__ import annotations

import secrets

import pytest

from lab import context, pki
from lab.controls import events
from lab.tpp import institutions, keyring, session
from lab.tpp.bank_api import LinkRevokedError, LinkSession
from lab.tpp.driver import TppBrowser, link, user_agent
from lab.tpp.institutions import Institution
from tests.support.tpp_fapi import link_row, require_as, restored_tpp_settings


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _material(lab, inst):  # type: ignore[no-untyped-def]
    """What the bank sees of the TPP for this institution: proof key and certificate."""
    jkt = session.dpop_signer(lab.config, inst).jkt
    cert, _ = keyring.client_certificate(lab.config, inst)
    with open(cert, "rb") as handle:
        return jkt, pki.thumbprint_s256(handle.read())


@pytest.mark.parametrize("on", [False, True])
def test_proofs_and_certificates_differ_per_institution_only_when_on(lab, controls,
                                                                    tpp_settings, on):
    if on:
        controls.only("tpp_per_as_keys")
    else:
        controls.only()
    honest = institutions.get(lab.store, "honestbank")
    others = [Institution(f"bank{n}", f"Bank {n}", f"https://as{n}.example",
                          f"https://api{n}.example") for n in (1, 2)]
    seen = [_material(lab, inst) for inst in (honest, *others)]
    jkts, certs = {s[0] for s in seen}, {s[1] for s in seen}
    assert (len(jkts), len(certs)) == ((3, 3) if on else (1, 1))
    # HonestBank keeps the certificate its AS registered by subject (RFC 8705 §2.1).
    assert keyring.certificate_name(honest) == "tpp"


@pytest.fixture
def cuckoo_entry(lab):  # type: ignore[no-untyped-def]
    """A second directory entry whose API is the honest bank (EvilBank's lie, attacks.md)."""
    inst = institutions.add_institution(lab.store, "cuckoobank", "CuckooBank",
                                        lab.config.issuer, lab.config.bank_url)
    yield inst
    lab.store.execute("DELETE FROM tpp_institutions WHERE id = ?", (inst.id,))
    institutions.forget_metadata()


@pytest.mark.parametrize("on", [False, True])
def test_honest_token_presented_via_another_entry_is_refused_only_when_on(
        lab, controls, tpp_settings, cuckoo_entry, on):
    controls.profile("fapi2-security")
    controls.set(tpp_per_as_keys=on)
    require_as(lab, "dpop_signing_alg_values_supported")
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    username = f"cuckoo-{on}-{secrets.token_hex(3)}"
    browser.sign_in(username)
    assert link(browser, user_agent(lab.config, lab.store, "alice")).status_code == 303
    honest_link = link_row(lab, username)
    assert honest_link["token_type"].lower() == "dpop"

    # The stolen token arrives as the cuckoo entry's token (no refresh token to fall back on).
    stolen = {**honest_link, "id": "link-cuckoo", "institution_id": cuckoo_entry.id,
              "refresh_token": None}
    request_id = f"cuckoo-{secrets.token_hex(6)}"
    with context.bound(lab.store, "tpp", request_id=request_id):
        api = LinkSession(lab.config, cuckoo_entry, stolen)
        if on:
            with pytest.raises(LinkRevokedError):
                api.get("/accounts")
        else:
            assert api.get("/accounts")["accounts"]   # the honest bank answers the cuckoo
    fired = {e.control for e in events.list_events(lab.store, request_id=request_id)
             if e.kind == "fired"}
    assert ("dpop_bound_tokens" in fired) is on
