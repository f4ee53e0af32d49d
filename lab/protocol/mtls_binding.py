"""Certificate-bound access tokens at the AS (RFC 8705 §3): cnf.x5t#S256 from the TLS client cert.

The certificate comes from Werkzeug's `SSL_CLIENT_CERT` (PEM), which the Flask
adapter puts on the OAuth2Request; the WSGI environ behind the request headers
is read as a fallback, so protocol code never imports Flask.
"""

from __future__ import annotations

from typing import Any

from lab import pki
from lab.controls import guard

MTLS = guard("mtls_bound_tokens")

CERT_ATTRIBUTES = ("client_cert", "ssl_client_cert", "tls_client_cert", "client_certificate")


def client_cert(request: Any) -> str | None:
    """The PEM client certificate of the mutual-TLS connection this request came over, if any."""
    for name in CERT_ATTRIBUTES:
        value = getattr(request, name, None)
        if isinstance(value, str | bytes) and value:
            return value.decode() if isinstance(value, bytes) else value
    for holder in (request, getattr(request, "headers", None)):
        environ = getattr(holder, "environ", None)
        if isinstance(environ, dict) and isinstance(environ.get("SSL_CLIENT_CERT"), str):
            return environ["SSL_CLIENT_CERT"] or None
    return None


def cnf_for(request: Any) -> dict[str, str] | None:
    """The cnf of a token requested over mutual TLS while mtls_bound_tokens is on, else None."""
    if not MTLS.on():
        return None  # weak: the token works from any TLS client
    x5t = pki.certificate_thumbprint(client_cert(request))
    # RFC 8705 §3.1: the x5t#S256 confirmation method member is "the base64url-encoded SHA-256
    # hash (a.k.a. thumbprint ...) of the DER encoding of the X.509 certificate".
    return {"x5t#S256": x5t} if x5t else None


