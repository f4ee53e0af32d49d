"""mtls_client_auth: tls_client_auth (a lab-CA certificate with the registered subject DN) and
self_signed_tls_client_auth (a certificate whose key is registered) authenticate the client;
secrets are refused (RFC 8705 §2; FAPI2 §5.3.2.1)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc.jwk import ECKey

from lab import pki
from tests.support.oauth import push, register, tpp_credentials


def _cert(lab, name):
    pair = pki.client_cert(lab.config.pki_dir, name)
    return str(pair.cert), str(pair.key)


def self_signed(tmp_path, common_name="tpp", org="FAPI Lab"):
    """A self-signed client certificate (files for requests) and its JWK with x5c."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{common_name}-ss.pem", tmp_path / f"{common_name}-ss.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    jwk = ECKey.import_key(cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)).as_dict()
    jwk["x5c"] = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    return (str(cert_path), str(key_path)), {"keys": [jwk]}


def _push_with_cert(http, lab, cert, client_id="tpp"):
    return push(http, lab, client_id=client_id, auth={}, cert=cert)


def test_secret_authenticated_request_succeeds_when_off(lab, controls, http, fired):
    controls.only()
    r = push(http, lab, auth=tpp_credentials(lab))
    assert r.status_code == 201 and fired(r) == []


def test_secret_authenticated_request_is_refused_with_invalid_client_when_on(
        lab, controls, http, fired):
    controls.only("mtls_client_auth")
    r = push(http, lab, auth=tpp_credentials(lab))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["mtls_client_auth"]


def test_tpp_certificate_authenticates_by_subject_when_on(lab, controls, http, fired):
    controls.only("mtls_client_auth")
    r = _push_with_cert(http, lab, _cert(lab, "tpp"))
    assert r.status_code == 201, r.text
    assert fired(r) == []
    revoke = http.post(lab.config.as_url + "/revoke", data={"token": "x", "client_id": "tpp"},
                       cert=_cert(lab, "tpp"))
    assert revoke.status_code == 200


def test_certificate_methods_are_not_offered_when_off(lab, controls, http, fired):
    controls.only()
    r = _push_with_cert(http, lab, _cert(lab, "tpp"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == []
    meta = http.get(lab.config.as_url + "/.well-known/openid-configuration").json()
    assert "tls_client_auth" not in meta["token_endpoint_auth_methods_supported"]


def test_another_lab_certificate_does_not_authenticate_as_the_tpp(lab, controls, http, fired):
    controls.only("mtls_client_auth")
    r = _push_with_cert(http, lab, _cert(lab, "attacker"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == []


def test_self_signed_certificate_with_the_tpp_subject_is_not_a_lab_ca_certificate(
        lab, controls, http, tmp_path):
    # The attacker registers a self-signed certificate named like the TPP: the TLS layer now
    # lets it through, but tls_client_auth checks the chain to the lab CA itself.
    controls.only("mtls_client_auth")
    cert, jwks = self_signed(tmp_path, "tpp")
    register(http, lab, token_endpoint_auth_method="self_signed_tls_client_auth", jwks=jwks,
             redirect_uris=[lab.config.tpp_url + "/callback"])
    r = _push_with_cert(http, lab, cert)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_self_signed_client_registers_and_authenticates_when_on(lab, controls, http, tmp_path):
    controls.only("mtls_client_auth")
    cert, jwks = self_signed(tmp_path, "selfie")
    reg = register(http, lab, token_endpoint_auth_method="self_signed_tls_client_auth",
                   jwks=jwks, redirect_uris=[lab.config.tpp_url + "/callback"])
    r = _push_with_cert(http, lab, cert, client_id=reg["client_id"])
    assert r.status_code == 201, r.text
    other, _ = self_signed(tmp_path, "stranger")
    with pytest.raises(requests.exceptions.SSLError):   # unregistered: refused by TLS itself
        _push_with_cert(http, lab, other, client_id=reg["client_id"])
    lab_cert = _push_with_cert(http, lab, _cert(lab, "attacker"), client_id=reg["client_id"])
    assert lab_cert.status_code == 401           # a certificate, but not the registered key


def test_registration_of_certificate_methods(lab, controls, http):
    controls.only()
    url = lab.config.as_url + "/register"
    body = {"redirect_uris": ["https://127.0.0.1:9446/callback"],
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=attacker,O=FAPI Lab"}
    assert http.post(url, json=body).status_code == 400          # not offered while off
    controls.only("mtls_client_auth")
    r = http.post(url, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["tls_client_auth_subject_dn"] == "CN=attacker,O=FAPI Lab"
    assert push(http, lab, client_id=r.json()["client_id"], auth={},
                cert=_cert(lab, "attacker")).status_code == 201
    for bad in ({"token_endpoint_auth_method": "tls_client_auth"},
                {"token_endpoint_auth_method": "tls_client_auth",
                 "tls_client_auth_subject_dn": "not a dn"},
                {"token_endpoint_auth_method": "self_signed_tls_client_auth"},
                {"dpop_bound_access_tokens": "yes"}):
        r = http.post(url, json={"redirect_uris": ["https://127.0.0.1:9446/cb"], **bad})
        assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", bad
    r = http.post(url, json={"redirect_uris": ["https://127.0.0.1:9446/cb"],
                             "dpop_bound_access_tokens": True})
    assert r.status_code == 201 and r.json()["dpop_bound_access_tokens"] is True


def test_discovery_offers_certificate_methods_only_when_on(lab, controls, http):
    controls.only("mtls_client_auth")
    meta = http.get(lab.config.as_url + "/.well-known/openid-configuration").json()
    assert meta["token_endpoint_auth_methods_supported"] == [
        "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"]


def test_tpp_registration_is_brought_up_to_date_at_start(lab):
    from lab.authserver import app as authserver
    from lab.authserver import clients

    tpp = clients.get(lab.store, "tpp")
    # FAPI2 §5.3.2.1: private_key_jwt with its JWKS, or tls_client_auth with its subject.
    assert tpp.auth_method == "private_key_jwt" and tpp.jwks
    assert tpp.metadata["tls_client_auth_subject_dn"] == "CN=tpp,O=FAPI Lab"
    assert set(tpp.extra_auth_methods) == {"client_secret_basic", "client_secret_post",
                                           "tls_client_auth"}
    clients.update(lab.store, "tpp", {**tpp.metadata, "token_endpoint_auth_method":
                                      "client_secret_basic", "jwks": {"keys": []}}, [])
    authserver.setup(lab.config, lab.store)          # what a restart runs
    again = clients.get(lab.store, "tpp")
    assert again.metadata == tpp.metadata and again.client_secret == tpp.client_secret
    assert again.extra_auth_methods == tpp.extra_auth_methods
