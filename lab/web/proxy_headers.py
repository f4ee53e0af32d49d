"""What the capture proxy tells an app about the client, and how the app knows it is the proxy.

With capture on, a client's TLS ends at mitmproxy, so the apps no longer see its
certificate or address. The proxy forwards them in headers, together with a per-run
secret; an app takes them (as Werkzeug's `SSL_CLIENT_CERT` and `REMOTE_ADDR`) only
when the secret matches, and drops them otherwise. The proxy strips these headers
from what clients send, so a client cannot claim a certificate it did not present.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

SECRET_HEADER = "X-Lab-Proxy-Secret"
CLIENT_CERT_HEADER = "X-Lab-Client-Cert"
CLIENT_ADDR_HEADER = "X-Lab-Client-Addr"
PROXY_HEADERS = (SECRET_HEADER, CLIENT_CERT_HEADER, CLIENT_ADDR_HEADER)
SECRET_CONFIG_KEY = "LAB_PROXY_SECRET"


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class ProxyTrust:
    """WSGI middleware: map the proxy's headers onto the environ when the secret matches."""

    def __init__(self, app: Callable[..., Iterable[bytes]],
                 secret: Callable[[], str | None]) -> None:
        self.app = app
        self.secret = secret

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sent = {h: environ.pop(_environ_key(h), None) for h in PROXY_HEADERS}
        expected = self.secret()
        given = sent[SECRET_HEADER]
        if expected and isinstance(given, str) and hmac.compare_digest(
                given.encode(), expected.encode()):
            environ.pop("SSL_CLIENT_CERT", None)
            cert = sent[CLIENT_CERT_HEADER]
            if cert:
                environ["SSL_CLIENT_CERT"] = unquote(cert)
            if sent[CLIENT_ADDR_HEADER]:
                environ["REMOTE_ADDR"] = sent[CLIENT_ADDR_HEADER]
        return self.app(environ, start_response)
