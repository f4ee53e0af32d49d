"""The lab's own certificate authority: generated on first start, kept in the data directory.

Every public origin presents a certificate from this CA, and clients (the TPP,
the attacker, tests, a browser told to trust it) verify against it — so TLS in
the lab is real TLS, never `verify=False`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import ssl
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.jose import b64

CA_NAME = "FAPI Lab local CA"
VALIDITY_DAYS = 825
# Self-signed client certificates registered for self_signed_tls_client_auth (RFC 8705 §2.2):
# Python's ssl would refuse them in the handshake, so every server context trusts them too.
TRUSTED_CLIENTS_DIR = "trusted-clients"
_contexts: dict[Path, weakref.WeakSet[ssl.SSLContext]] = {}
_contexts_lock = threading.Lock()


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.chmod(0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FAPI Lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def ensure_ca(pki_dir: Path) -> CertPair:
    """Create the CA once; later calls return the existing one."""
    pair = CertPair(pki_dir / "ca.pem", pki_dir / "ca.key")
    if pair.cert.exists() and pair.key.exists():
        return pair
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(CA_NAME)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now()).not_valid_after(_now() + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(pair.key, key)
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _load_ca(pki_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    pair = ensure_ca(pki_dir)
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def _issue(pki_dir: Path, name: str, common_name: str, *, server: bool,
           hosts: tuple[str, ...] = ()) -> CertPair:
    pair = CertPair(pki_dir / f"{name}.pem", pki_dir / f"{name}.key")
    if pair.cert.exists() and pair.key.exists():
        return pair
    ca_cert, ca_key = _load_ca(pki_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now()).not_valid_after(_now() + dt.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    if hosts:
        alt: list[x509.GeneralName] = []
        for host in hosts:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_private(pair.key, key)
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


def server_cert(pki_dir: Path, host: str = "127.0.0.1") -> CertPair:
    """One certificate for every lab origin on this host (origins differ only by port)."""
    hosts = tuple(dict.fromkeys((host, "127.0.0.1", "localhost")))
    return _issue(pki_dir, f"server-{host}", host, server=True, hosts=hosts)


def client_cert(pki_dir: Path, name: str) -> CertPair:
    """A client certificate (TPP, attacker) for mutual TLS."""
    return _issue(pki_dir, f"client-{name}", name, server=False)


def server_ssl_context(pki_dir: Path, host: str = "127.0.0.1") -> ssl.SSLContext:
    """TLS for a lab origin; asks for (but does not require) a client certificate."""
    pair = server_cert(pki_dir, host)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pair.cert, pair.key)
    ctx.load_verify_locations(pki_dir / "ca.pem")
    ctx.verify_mode = ssl.CERT_OPTIONAL
    trusted = pki_dir / TRUSTED_CLIENTS_DIR
    for path in sorted(trusted.glob("*.pem")) if trusted.is_dir() else []:
        ctx.load_verify_locations(cadata=path.read_text())
    with _contexts_lock:
        _contexts.setdefault(pki_dir.resolve(), weakref.WeakSet()).add(ctx)
    return ctx


def trust_client_certificate(pki_dir: Path, cert_pem: str) -> None:
    """Let a registered self-signed client certificate through the TLS handshake of every
    running lab origin (and of those started later). Authentication is still decided by the
    AS (lab.protocol.mtls_client_auth), never by this trust."""
    x509.load_pem_x509_certificate(cert_pem.encode())  # only a well-formed certificate
    trusted = pki_dir / TRUSTED_CLIENTS_DIR
    trusted.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(cert_pem.strip().encode()).hexdigest()[:32] + ".pem"
    (trusted / name).write_text(cert_pem)
    with _contexts_lock:
        contexts = list(_contexts.get(pki_dir.resolve(), ()))
    for ctx in contexts:
        ctx.load_verify_locations(cadata=cert_pem)


def thumbprint_s256(cert_pem: str | bytes) -> str:
    """x5t#S256 (RFC 8705 §3.1): base64url SHA-256 of the DER certificate."""
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    der = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return b64.sha256(der)


@functools.lru_cache(maxsize=256)
def _cached_thumbprint(cert_pem: str | bytes) -> str:
    return thumbprint_s256(cert_pem)


def certificate_thumbprint(cert_pem: str | bytes | None) -> str | None:
    """x5t#S256 of a presented client certificate, or None for none or an unreadable one.
    Parsed once: a kept-alive connection presents the same certificate on every call (the
    cache is bounded, so many certificates cannot grow it)."""
    if not cert_pem:
        return None
    try:
        return _cached_thumbprint(cert_pem)
    except (ValueError, TypeError):
        return None
