"""The state behind DPoP's replay defences (RFC 9449 §8, §11.1): server nonces and the jti cache.

Both work across workers: nonces are stateless HMACs over a time step with a
secret kept in the store; jti values are rows whose INSERT decides atomically.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from lab import clock, context
from lab.controls import guard
from lab.store.base import Once, Store, once_key
from lab.store.sweep import PeriodicSweep

from . import b64

NONCE = guard("dpop_nonce")
IAT = guard("dpop_iat_window")

JTI_SCHEMA = """
CREATE TABLE IF NOT EXISTS dpop_jti (
    uri TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (uri, jti)
);
CREATE INDEX IF NOT EXISTS dpop_jti_expiry ON dpop_jti(expires_at);
"""
_schema_ready: set[int] = set()


class Nonces:
    """Stateless server nonces: HMAC(secret, server | time step). Workers share nothing but the
    secret (kept in the store, created once); each server (AS, bank) has its own, so a nonce
    from one is useless at the other.

    A step is half the `lifetime` param and the current and previous steps are accepted, so a
    nonce lives between lifetime/2 and lifetime seconds of lab time."""

    def __init__(self, server: str) -> None:
        self.server = server
        self._secrets: dict[int, bytes] = {}

    def _secret(self) -> bytes:
        store = context.current().store
        if id(store) not in self._secrets:
            key = f"dpop_nonce_secret:{self.server}"
            with store.transaction():
                value = store.get_setting(key)
                if not isinstance(value, str):
                    value = secrets.token_urlsafe(32)
                    store.set_setting(key, value)
            self._secrets[id(store)] = value.encode()
        return self._secrets[id(store)]

    @staticmethod
    def _step_length() -> float:
        try:
            return max(float(NONCE.param("lifetime", 120)) / 2, 1.0)
        except (TypeError, ValueError):
            return 60.0

    def _for_step(self, step: int) -> str:
        mac = hmac.new(self._secret(), f"{self.server}|{step}".encode(), hashlib.sha256)
        return b64.encode(mac.digest()[:24])

    def current(self) -> str:
        return self._for_step(int(clock.now() // self._step_length()))

    def valid(self, nonce: object) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64:
            return False
        step = int(clock.now() // self._step_length())
        given = nonce.encode("utf-8", "surrogatepass")
        return any(hmac.compare_digest(given, self._for_step(s).encode())
                   for s in (step, step - 1))


def _jti_lifetime() -> float:
    """As long as a proof could still pass the iat window (a day when the window is off)."""
    if not IAT.on():
        return 86400.0
    return float(IAT.param("past", 60)) + float(IAT.param("future", 10)) + 5


EXPIRED = PeriodicSweep("DELETE FROM dpop_jti WHERE expires_at < ?")


def first_use(jti: str, target: str) -> bool:
    """True for the first proof with this jti at this target URI; False for a replay."""
    store = context.current().store
    _ensure_schema(store)
    now = clock.now()
    EXPIRED.run(store, now, now)
    # RFC 9449 §11.1: "the server MAY store, in the context of the target URI, the jti value of
    # each DPoP proof for the time window in which the respective DPoP proof JWT would be
    # accepted". One statement decides, so two workers cannot both accept one proof: a new
    # row, or a row whose time is over (not yet swept) taken over; a live row stays and the
    # row count is 0.
    lifetime = _jti_lifetime()
    return store.consume(
        "INSERT INTO dpop_jti(uri, jti, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT(uri, jti) DO UPDATE SET expires_at = excluded.expires_at "
        "WHERE dpop_jti.expires_at < ?",
        (target, jti, now + lifetime, now),
        once=Once("dpop_jti", once_key(target, jti), lifetime))



def _ensure_schema(store: Store) -> None:
    if id(store) not in _schema_ready:
        store.ensure_schema(JTI_SCHEMA)
        _schema_ready.add(id(store))
