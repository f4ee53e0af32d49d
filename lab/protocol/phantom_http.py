"""The phantom-token gateway's two outgoing legs, over the lab's TLS (docs/gateway.md).

Introspection at the AS (RFC 7662 §2.1, private_key_jwt) and the forwarded call to the bank
(mutual TLS with the gateway's lab-CA certificate). Both go to the public origins, so with
capture on mitmproxy records them as legs of their own. Framework-free: the gateway's Flask
view hands in the request's parts and sends back what `forward` returns.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests

from lab import keys, pki
from lab.config import LabConfig

from . import phantom
from .sender_binding import ResourceRequest, current_nonce

log = logging.getLogger("fapi_lab.gateway")

TIMEOUT = 10.0
# RFC 9110 §7.6.1 hop-by-hop fields, what the gateway itself decides, and what only the
# capture may set: none of these is passed on in either direction.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}
NOT_FORWARDED = HOP_BY_HOP | {"authorization", "dpop", phantom.CONFIRMED_HEADER.lower(),
                              phantom.FORWARDED_FOR_HEADER.lower(),
                              "x-lab-proxy-secret", "x-lab-client-cert", "x-lab-client-addr"}
NOT_RETURNED = HOP_BY_HOP | {"dpop-nonce", "x-lab-request-id", "set-cookie"}


@dataclass(frozen=True)
class Outcome:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Gateway:
    """One gateway: its keys, its cache and its kept-alive sessions to the AS and the bank."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.cache = phantom.IntrospectionCache()
        self.key_file = keys.KeyFile(config.keys_dir, phantom.GATEWAY_OWNER)
        cert = pki.client_cert(config.pki_dir, phantom.GATEWAY_CERT)
        self._cert = (str(cert.cert), str(cert.key))
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # else $REQUESTS_CA_BUNDLE and proxies override these
            session.verify = str(self.config.ca_cert_path)
            session.cert = self._cert
        return session

    def introspect(self, token: str) -> object:
        """RFC 7662 §2.1 as a resource server; a non-JSON or failed answer is no answer."""
        form = {"token": token, "token_type_hint": "access_token",
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": phantom.client_assertion(self.config, self.key_file.read())}
        try:
            response = self._session().post(self.config.as_url + "/introspect", data=form,
                                            timeout=TIMEOUT)
        except requests.RequestException as exc:
            log.warning("introspection failed: %s", exc)
            raise phantom.GatewayUnavailableError() from None
        if response.status_code != 200:
            log.warning("introspection answered %s", response.status_code)
            raise phantom.GatewayUnavailableError()
        try:
            return response.json()
        except ValueError:
            raise phantom.GatewayUnavailableError() from None

    def forward(self, *, method: str, path: str, query: bytes, headers: list[tuple[str, str]],
                body: bytes, authorization: str | None, request: ResourceRequest,
                request_id: str, client_address: str = "") -> Outcome:
        """Admit the request (phantom.admit), then call the bank with the inner JWT."""
        admitted = phantom.admit(authorization, request, introspect=self.introspect,
                                 cache=self.cache, issuer=self.config.issuer,
                                 private_keys=self.key_file.read())
        sent = {k: v for k, v in headers if k.lower() not in NOT_FORWARDED}
        sent["Authorization"] = f"Bearer {admitted.inner_jwt}"
        sent["X-Lab-Request-Id"] = request_id  # the bank's events belong to the same request
        if admitted.confirmed:
            sent[phantom.CONFIRMED_HEADER] = admitted.confirmed
        if client_address:
            sent[phantom.FORWARDED_FOR_HEADER] = client_address
        url = self.config.bank_url + path + (f"?{query.decode('latin-1')}" if query else "")
        try:
            response = self._session().request(method, url, headers=sent, data=body or None,
                                               timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("the bank did not answer: %s", exc)
            raise phantom.GatewayUnavailableError() from None
        returned = [(k, v) for k, v in response.headers.items() if k.lower() not in NOT_RETURNED]
        return Outcome(response.status_code, returned, response.content)


def nonce_header() -> list[tuple[str, Any]]:
    """RFC 9449 §9: the gateway is the resource server the client sees; its nonce goes out."""
    nonce = current_nonce()
    return [("DPoP-Nonce", nonce)] if nonce else []
