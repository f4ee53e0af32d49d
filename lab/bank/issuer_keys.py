"""Where the bank gets the AS's keys: discovery (OIDC Discovery §4, RFC 8414 §3), then jwks_uri.

Fetched lazily on first use (the AS may start after the bank) over TLS with the
lab CA, and cached; `lab.jose.jws.JwksSource` refreshes once for an unknown kid.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from lab.config import LabConfig
from lab.jose.jws import JwksSource

TIMEOUT = 10


class KeysUnavailable(Exception):
    """Discovery or the JWKS could not be fetched or made no sense."""


class AuthorizationServerKeys:
    """The AS's JWKS as an independent resource server finds it: from the issuer alone."""

    def __init__(self, config: LabConfig) -> None:
        self.issuer = config.issuer
        self.ca_path = str(config.ca_cert_path)
        self.source: JwksSource | None = None
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, verify=self.ca_path, timeout=TIMEOUT)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise KeysUnavailable(f"GET {url}: {exc}") from None
        if not isinstance(data, dict):
            raise KeysUnavailable(f"GET {url}: not a JSON object")
        return data

    def _discover(self) -> str:
        metadata = self._get_json(self.issuer + "/.well-known/openid-configuration")
        # RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the authorization
        # server's issuer identifier value into which the well-known URI string was inserted".
        if metadata.get("issuer") != self.issuer:
            raise KeysUnavailable("discovery issuer does not match the configured issuer")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise KeysUnavailable("discovery has no https jwks_uri")
        return jwks_uri

    def _fetch_jwks(self, jwks_uri: str) -> dict[str, Any]:
        data = self._get_json(jwks_uri)
        if not isinstance(data.get("keys"), list):
            raise KeysUnavailable("JWKS has no keys array")
        return data

    def jwks(self) -> JwksSource:
        """The cached key source; discovery runs on first use and again after a failure."""
        with self._lock:
            if self.source is None:
                jwks_uri = self._discover()
                self.source = JwksSource(jwks_uri, self.ca_path,
                                         fetch=lambda: self._fetch_jwks(jwks_uri))
            return self.source
