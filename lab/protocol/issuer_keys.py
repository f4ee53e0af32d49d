"""Where the bank gets the AS's keys: discovery (OIDC Discovery §4, RFC 8414 §3), then jwks_uri.

Fetched lazily on first use (the AS may start after the bank) over TLS with the
lab CA, and cached; `lab.jose.jws.JwksSource` refreshes once for an unknown kid.

Every key the bank ever fetched is remembered in the store (`bank_trusted_keys`, so every
worker process shares the memory). With `as_key_rotation` off the bank is the naive
resource server that trusts those keys forever; on, its cache ages on the lab clock
(param `jwks_max_age`) and a token signed by a remembered key that the AS no longer
publishes (retired) is refused, and the refusal says so (FAPI2 §6.8; OIDC §10.1.1).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import requests

from lab import clock
from lab.config import LabConfig
from lab.controls import guard
from lab.jose.jws import JwksSource
from lab.store import Store

ROTATION = guard("as_key_rotation")
log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS bank_trusted_keys (
    kid TEXT PRIMARY KEY,
    jwk TEXT NOT NULL,
    first_seen REAL NOT NULL
);
"""
MAX_REMEMBERED = 1000   # a JWKS is tiny; an issuer publishing thousands of keys is broken

TIMEOUT = 10


class KeysUnavailable(Exception):
    """Discovery or the JWKS could not be fetched or made no sense."""


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


class IssuerJwks(JwksSource):
    """The AS's JWKS as the bank caches it, with its memory of every key it ever trusted."""

    def __init__(self, jwks_uri: str, ca_path: str, store: Store, *,
                 fetch: Callable[[], dict] | None = None) -> None:
        super().__init__(jwks_uri, ca_path, fetch=fetch)
        self.store = store
        self._loaded_at = 0.0     # lab clock

    def _load(self) -> list[dict[str, Any]]:
        loaded = super()._load()
        self._loaded_at = clock.now(self.store)
        now = self._loaded_at
        for key in loaded[:MAX_REMEMBERED]:
            kid = key.get("kid")
            if isinstance(kid, str) and kid:
                public = {k: v for k, v in key.items() if k != "d"}
                self.store.execute("INSERT OR IGNORE INTO bank_trusted_keys (kid, jwk, "
                                   "first_seen) VALUES (?, ?, ?)", (kid, json.dumps(public), now))
        return loaded

    def stale(self) -> bool:
        # On: the JWKS is read again once it is older than jwks_max_age on the lab clock, so a
        # key the AS retired leaves the bank's cache too. Off: cached until a kid misses.
        if not ROTATION.on():
            return False
        max_age = float(ROTATION.param("jwks_max_age", 60))
        return abs(clock.now(self.store) - self._loaded_at) >= max_age   # moved back too

    def not_published(self, kid: str | None, error: Callable[[], Exception]
                      ) -> dict[str, Any] | None:
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            return None
        row = self.store.query_one("SELECT jwk FROM bank_trusted_keys WHERE kid = ?", (kid,))
        if row is None:
            return None
        if ROTATION.on():
            raise ROTATION.refuse(error(), reason=f"kid {kid} was an AS signing key the bank "
                                                  "trusted, but the AS no longer publishes it "
                                                  "(retired by a rotation)")
        # Weak path: a resource server that caches every key it has seen, forever.
        log.info("accepting a token signed by retired AS key %s (as_key_rotation off)", kid)
        found: dict[str, Any] = json.loads(row["jwk"])
        return found


class AuthorizationServerKeys:
    """The AS's JWKS as an independent resource server finds it: from the issuer alone."""

    def __init__(self, config: LabConfig, store: Store) -> None:
        self.store = store
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
                self.source = IssuerJwks(jwks_uri, self.ca_path, self.store,
                                         fetch=lambda: self._fetch_jwks(jwks_uri))
            return self.source
