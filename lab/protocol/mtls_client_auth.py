"""Mutual-TLS client authentication (RFC 8705 §2): tls_client_auth and self_signed_tls_client_auth.

The TLS layer (lab.pki) only asks for a certificate; the checks live here: a
lab-CA certificate with the registered subject DN (§2.1), or a certificate whose
key is one of the client's registered keys (§2.2). The certificate reaches the
request as `client_cert` (PEM), set by the Flask adapter from `SSL_CLIENT_CERT`.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import KeySet, OctKey

from lab import clock

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_certificate(pem: object) -> x509.Certificate | None:
    if not isinstance(pem, str) or not pem or len(pem) > 20000:
        return None
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def canonical_dn(value: object) -> str | None:
    """RFC 8705 §2.1.2: the subject DN "as defined in [RFC4514]"; compared in canonical form."""
    if not isinstance(value, str) or not value or len(value) > 1000:
        return None
    try:
        return x509.Name.from_rfc4514_string(value).rfc4514_string()
    except ValueError:
        return None


def _valid_now(cert: x509.Certificate) -> bool:
    now = dt.datetime.fromtimestamp(clock.now(), dt.UTC)
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _client_from_request(query_client: Any, request: Any) -> tuple[Any, x509.Certificate] | None:
    # RFC 8705 §2: "the client_id parameter ... MUST" be included.
    client_id = request.form.get("client_id")
    cert = load_certificate(getattr(request, "client_cert", None))
    if not isinstance(client_id, str) or cert is None or not _valid_now(cert):
        return None
    client = query_client(client_id)
    return (client, cert) if client is not None else None


class TLSClientAuth:
    """tls_client_auth (RFC 8705 §2.1): PKI, the lab CA is the trust anchor."""

    def __init__(self, ca_path: Path) -> None:
        self.ca_path = ca_path

    def __call__(self, query_client: Any, request: Any) -> Any:
        found = _client_from_request(query_client, request)
        if found is None:
            return None
        client, cert = found
        ca = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
        try:
            # The TLS layer may trust registered self-signed certificates too (§2.2), so the
            # chain to the lab CA is checked here, not assumed.
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            return None
        # RFC 8705 §2.1.2: "tls_client_auth_subject_dn ... the expected subject distinguished
        # name of the certificate".
        expected = canonical_dn(client.metadata.get("tls_client_auth_subject_dn"))
        if expected is None or cert.subject.rfc4514_string() != expected:
            return None
        return client


class SelfSignedTLSClientAuth:
    """self_signed_tls_client_auth (RFC 8705 §2.2): the certificate's key is a registered key."""

    def __call__(self, query_client: Any, request: Any) -> Any:
        found = _client_from_request(query_client, request)
        if found is None:
            return None
        client, cert = found
        presented = cert.public_key().public_bytes(*SPKI)
        # RFC 8705 §2.2: the AS checks the certificate against "the client's registered
        # jwks or jwks_uri" (the x5c of a JWK, or its public key).
        return client if presented in registered_keys(getattr(client, "jwks", None)) else None


def registered_keys(jwks: object) -> set[bytes]:
    """SubjectPublicKeyInfo (DER) of every key in a JWKS: its own and its x5c certificate's."""
    out: set[bytes] = set()
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return out
    for jwk in jwks["keys"]:
        if not isinstance(jwk, dict):
            continue
        for cert in x5c_certificates(jwk)[:1]:
            out.add(cert.public_key().public_bytes(*SPKI))
        try:
            key = KeySet.import_key_set({"keys": [jwk]}).keys[0]
            if isinstance(key, OctKey):
                continue  # a shared secret is no certificate key
            pem = key.as_pem(private=False)
            out.add(serialization.load_pem_public_key(pem).public_bytes(*SPKI))
        except Exception:  # noqa: BLE001 - an unusable JWK simply matches nothing
            continue
    return out


def x5c_certificates(jwk: dict[str, Any]) -> list[x509.Certificate]:
    chain = jwk.get("x5c")
    if not isinstance(chain, list):
        return []
    out = []
    for item in chain[:5]:
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode(str(item), validate=True)))
        except ValueError:
            return []
    return out


def self_signed_pems(jwks: object) -> list[str]:
    """The self-signed end-entity certificates in a JWKS's x5c, as PEM (for the TLS trust)."""
    pems = []
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    for jwk in keys if isinstance(keys, list) else []:
        certs = x5c_certificates(jwk) if isinstance(jwk, dict) else []
        if certs and is_self_signed_leaf(certs[0]):
            pems.append(certs[0].public_bytes(serialization.Encoding.PEM).decode())
    return pems


def is_self_signed_leaf(cert: x509.Certificate) -> bool:
    """Self-signed, and not a CA: trusting it must not let it vouch for other certificates."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            return False
    except x509.ExtensionNotFound:
        pass
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
