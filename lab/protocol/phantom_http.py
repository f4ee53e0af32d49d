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

from lab import context, keys, pki
from lab.config import LabConfig
from lab.jose import http_signatures as sig
from lab.store import Store

from . import http_signatures as signing
from . import introspection_jwt, phantom
from .issuer_keys import AuthorizationServerKeys
from .sender_binding import ResourceRequest, current_nonce

log = logging.getLogger("fapi_lab.gateway")

TIMEOUT = 10.0
# RFC 9110 §7.6.1 hop-by-hop fields, what the gateway itself decides, and what only the
# capture may set: none of these is passed on in either direction.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}
# The client's RFC 9421 signature is checked here, at the edge it addressed (its @target-uri
# and authorization are the gateway's URL and the reference): the bank never sees it, and the
# gateway signs the answer the client gets (docs/gateway.md).
SIGNATURE_FIELDS = {"signature", "signature-input"}
NOT_FORWARDED = HOP_BY_HOP | SIGNATURE_FIELDS | {
    "authorization", "dpop", phantom.CONFIRMED_HEADER.lower(),
    phantom.FORWARDED_FOR_HEADER.lower(), "x-lab-proxy-secret", "x-lab-client-cert",
    "x-lab-client-addr"}
NOT_RETURNED = HOP_BY_HOP | SIGNATURE_FIELDS | {"content-digest", "dpop-nonce",
                                                "x-lab-request-id", "set-cookie"}


@dataclass(frozen=True)
class Outcome:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    signature_label: str | None = None   # the client's verified signature (http_message_signing)


class Gateway:
    """One gateway: its keys, its cache and its kept-alive sessions to the AS and the bank."""

    def __init__(self, config: LabConfig, store: Store) -> None:
        self.config = config
        # The AS's keys as the bank finds them (discovery, jwks_uri, as_key_rotation).
        self.as_keys = AuthorizationServerKeys(config, store)
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
        """RFC 7662 §2.1 as a resource server, asking for the RFC 9701 signed answer (FAPI 2.0
        Message Signing §5.5); only a verified one is believed (phantom.signed_answer)."""
        form = {"token": token, "token_type_hint": "access_token",
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": phantom.client_assertion(self.config, self.key_file.read())}
        try:
            response = self._session().post(
                self.config.as_url + "/introspect", data=form, timeout=TIMEOUT,
                headers={"Accept": introspection_jwt.MEDIA_TYPE})
        except requests.RequestException as exc:
            log.warning("introspection failed: %s", exc)
            raise phantom.GatewayUnavailableError() from None
        if response.status_code != 200:
            log.warning("introspection answered %s", response.status_code)
            raise phantom.GatewayUnavailableError()
        return phantom.signed_answer(response.headers.get("Content-Type", ""), response.text,
                                     self.as_keys.jwks, self.config.issuer)

    def forward(self, *, method: str, path: str, query: bytes, headers: list[tuple[str, str]],
                body: bytes, authorization: str | None, request: ResourceRequest,
                request_id: str, client_address: str = "") -> Outcome:
        """Admit the request (phantom.admit) and check its message signature, then call the
        bank with the inner JWT."""
        admitted = phantom.admit(authorization, request, introspect=self.introspect,
                                 cache=self.cache, issuer=self.config.issuer,
                                 private_keys=self.key_file.read())
        client_id = admitted.claims.get("client_id")
        label = signing.check_request(
            context.current().store, client_id if isinstance(client_id, str) else None,
            self.signed_message(method, path, query, headers), body)
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
        return Outcome(response.status_code, returned, response.content, label)

    def signed_message(self, method: str, path: str, query: bytes,
                       headers: list[tuple[str, str]]) -> sig.Request:
        """The client's request as RFC 9421 sees it: @target-uri is the gateway's public URL."""
        target = self.config.gateway_url + path + (f"?{query.decode('latin-1')}" if query else "")
        return sig.Request(method, target, sig.Fields(headers))

    def sign_response(self, status: int, headers: list[tuple[str, str]], body: bytes,
                      request: sig.Request, label: str | None) -> dict[str, str]:
        """http_message_signing on: the answer the client gets, signed with HonestBank's API
        key (the one the gateway publishes at /.well-known/jwks.json), bound to its request."""
        if not signing.signs_responses():
            return {}
        return signing.sign_response(self.config.keys_dir, status, headers, body, request,
                                     label)


def nonce_header() -> list[tuple[str, Any]]:
    """RFC 9449 §9: the gateway is the resource server the client sees; its nonce goes out."""
    nonce = current_nonce()
    return [("DPoP-Nonce", nonce)] if nonce else []
