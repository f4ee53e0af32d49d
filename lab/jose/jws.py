"""JWS verification for the bank and the TPP (PyJWT), with alg_allow_list and trusted_keys_only.

Off, each switch reproduces a classic verifier bug (RFC 8725 §2.1): letting the
token's header pick the algorithm (`none`; HS256 keyed with the issuer's public
key) or trusting a key embedded in the header. PyJWT refuses both by design, so
the weak paths are written out here, marked, to show what the controls prevent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests

from lab.controls import guard

from . import algs, b64
from .algs import EMBEDDED_KEY_HEADERS
from .jwk import loaded_key, public_pem, thumbprint

ALG_ALLOW_LIST = guard("alg_allow_list")
TRUSTED_KEYS_ONLY = guard("trusted_keys_only")

HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def allow_list() -> list[str]:
    """The algorithms alg_allow_list accepts (its `algorithms` parameter); only while it is on."""
    return [str(a) for a in ALG_ALLOW_LIST.param("algorithms", list(algs.FAPI2))]


class JwksSource:
    """An issuer's published keys, fetched over TLS (lab CA) and cached; refresh on demand.

    An unknown kid refetches at most once per REFRESH_COOLDOWN seconds (counted between
    kid-driven refetches only, not from the first fetch, so a key rotated in right after
    start-up is picked up at once), so a flood of tokens with made-up kids does not become
    a flood of fetches at the issuer. `fetches` counts the fetches (tests bound it by count).
    PyJWT's PyJWKClient has the same cooldown but starts it at every fetch, and ages its
    cache on wall time; the lab's cache ages on the lab clock (`stale()`, a subclass's).
    """

    REFRESH_COOLDOWN = 10.0

    def __init__(self, jwks_uri: str, ca_path: str, *, fetch: Callable[[], dict] | None = None
                 ) -> None:
        self.jwks_uri = jwks_uri
        self.ca_path = ca_path
        self._fetch = fetch
        self._keys: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self._refreshed_at: float | None = None
        self.fetches = 0

    def _load(self) -> list[dict[str, Any]]:
        if self._fetch is not None:
            data = self._fetch()
        else:
            response = requests.get(self.jwks_uri, verify=self.ca_path, timeout=10)
            response.raise_for_status()
            data = response.json()
        self.fetches += 1
        return [k for k in data.get("keys", []) if isinstance(k, dict)]

    def stale(self) -> bool:
        """Whether the cached set is too old to use (never, here: cached until a kid misses)."""
        return False

    def keys(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._keys is None or self.stale():
                self._keys = self._load()
            return self._keys

    def refresh(self) -> list[dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._keys is None or self._refreshed_at is None or \
                    now - self._refreshed_at >= self.REFRESH_COOLDOWN:
                self._keys = self._load()
                self._refreshed_at = now
            return self._keys

    def find(self, kid: str | None, alg: str | None) -> dict[str, Any] | None:
        """The key named by kid; without a kid, the only key that fits the algorithm."""
        keys = self.keys()
        if kid is not None:
            return next((k for k in keys if k.get("kid") == kid), None)
        fitting = [k for k in keys if algs.kty_for(alg) == k.get("kty")]
        return fitting[0] if len(fitting) == 1 else None

    def not_published(self, kid: str | None, error: Callable[[], Exception]
                      ) -> dict[str, Any] | None:
        """A key the issuer no longer publishes that this verifier still holds (none here)."""
        return None


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """header, claims, signing input, signature — or ValueError for anything malformed."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise ValueError("not a compact JWS")
    head_b64, body_b64, sig_b64 = token.split(".")
    try:
        header = json.loads(b64.decode(head_b64))
        claims = json.loads(b64.decode(body_b64))
        signature = b64.decode(sig_b64)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("undecodable JWS") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("JWS header and payload must be JSON objects")
    return header, claims, f"{head_b64}.{body_b64}".encode(), signature


COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_COMPACT = 16384   # a client assertion is about 500 bytes
MAX_HEADER = 1024     # joserfc's bound is 512 bytes decoded
EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def split_strict(token: object) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """`_split` after the compact form's alphabet is checked: the standard library's base64
    would silently skip a character outside it (RFC 7515 §2 allows none, nor padding)."""
    if not isinstance(token, str) or len(token) > MAX_COMPACT or not COMPACT.fullmatch(token) \
            or token.index(".") > MAX_HEADER:
        raise ValueError("not a compact JWS")
    return _split(token)


def verify_with_jwks(parts: tuple[dict[str, Any], dict[str, Any], bytes, bytes],
                     jwks: list[dict[str, Any]], algorithms: list[str]) -> None:
    """Verify a JWS split by `split_strict` with a registered JWKS; ValueError when it fails.

    What joserfc's decode checked, on a key object loaded once (jwk.loaded_key): `alg` one of
    `algorithms`; no `crit` (RFC 7515 §4.1.11: the lab understands no extension, so any is
    refused); the key named by `kid`, or the only key when there is none; a key whose own
    `alg`/`use` allow it (RFC 7517 §4.2, §4.4) and whose type and curve fit the alg."""
    header, _claims, signing_input, signature = parts
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in algorithms:
        raise ValueError("alg not accepted")
    if kid is None:
        found = jwks if len(jwks) == 1 else []
    elif isinstance(kid, str):
        found = [k for k in jwks if _kid(k) == kid]
    else:
        raise ValueError("kid is not a string")
    found = [k for k in found if k.get("alg", alg) == alg and k.get("use", "sig") == "sig"]
    if not found:
        raise ValueError("no registered key fits")
    jwk = found[0]
    if algs.kty_for(alg) != jwk.get("kty") or \
            (alg in EC_CURVES and jwk.get("crv") != EC_CURVES[alg]):
        raise ValueError(f"the key does not fit {alg}")
    verify_parts(header, signing_input, signature, jwk, alg)


def _kid(jwk: dict[str, Any]) -> str | None:
    """A registered key's kid; joserfc gave a key without one its RFC 7638 thumbprint."""
    if "kid" in jwk:
        return jwk["kid"] if isinstance(jwk["kid"], str) else None
    try:
        return thumbprint(jwk)
    except (KeyError, ValueError, TypeError):
        return None


def verify_parts(header: dict[str, Any], signing_input: bytes, signature: bytes,
                 jwk: dict[str, Any], alg: str) -> None:
    """The signature of a JWS the caller split strictly and whose alg and key it chose;
    ValueError when it fails. What PyJWS checked besides: a string `kid`, and `crit` (here
    refused whatever it names: RFC 7515 §4.1.11, the lab processes no extension)."""
    if "crit" in header:
        raise ValueError("crit extensions are not supported")
    if "kid" in header and not isinstance(header["kid"], str):
        raise ValueError("kid is not a string")
    key = loaded_key(jwk, alg)
    if not key.Algorithm.verify(signing_input, key.key, signature):
        raise ValueError("bad signature")


_JWS = jwt.PyJWS()   # stateless once built; building one per token costs more than a lookup


def verify_with(token: str, jwk: dict[str, Any], alg: str) -> Any:
    """PyJWS's own checks and signature verification, with the key object kept from before."""
    return _JWS.decode_complete(token, key=loaded_key(jwk, alg), algorithms=[alg])


def sign(header: dict[str, Any], claims: dict[str, Any], key: jwt.PyJWK) -> str:
    """A compact JWS (RFC 7515 §7.1) of claims this process made, signed with a key object
    loaded once: building it through a JOSE library's registry and key lookup per token cost
    about three times the signature itself. `key.Algorithm` gives ES256 its raw R||S form."""
    head = b64.encode(json.dumps(header, separators=(",", ":")).encode())
    body = b64.encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = key.Algorithm.sign(f"{head}.{body}".encode(), key.key)
    return f"{head}.{body}.{b64.encode(signature)}"


def _verify_asymmetric(token: str, jwk: dict[str, Any], alg: str) -> bool:
    try:
        verify_with(token, jwk, alg)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return False
    return True


def verify(token: str, source: JwksSource, error: Callable[[], Exception]) -> dict[str, Any]:
    """Verify the signature of `token` against the issuer's keys; return its claims.

    `error()` builds the caller's refusal (bank: invalid_token; TPP: id_token_invalid).
    Claims (exp, aud, iss) are the caller's to check with its own controls.
    """
    try:
        header, claims, signing_input, signature = _split(token)
    except ValueError:
        raise error() from None
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise error()

    # RFC 8725 §3.1: the verifier, not the token, decides which algorithms are acceptable.
    if ALG_ALLOW_LIST.on():
        allowed = allow_list()
        if alg not in allowed:
            raise ALG_ALLOW_LIST.refuse(error(), reason=f"alg {alg!r} is not in {allowed}")
    elif alg.lower() == "none":
        # Weak path: an unsigned token is taken at its word.
        if signature:
            raise error()
        return claims
    elif alg in HMAC_HASHES:
        # Weak path: an HMAC keyed with the issuer's *public* key, which anybody can fetch.
        candidates = [source.find(header.get("kid"), None)] if header.get("kid") else \
            source.keys()
        for jwk in filter(None, candidates):
            mac = hmac.new(public_pem(jwk), signing_input, HMAC_HASHES[alg]).digest()
            if hmac.compare_digest(mac, signature):
                return claims
        raise error()

    embedded = [h for h in EMBEDDED_KEY_HEADERS if h in header]
    if embedded and not TRUSTED_KEYS_ONLY.on() and isinstance(header.get("jwk"), dict):
        # Weak path: the token brings the key that verifies it.
        if _verify_asymmetric(token, header["jwk"], alg):
            return claims
        raise error()

    # FAPI2 §5.4.2 / OIDC §10.1: keys only from the issuer's jwks_uri; one refresh for a new kid.
    found = source.find(header.get("kid"), alg)
    if found is None:
        source.refresh()
        found = source.find(header.get("kid"), alg)
    if found is None and not embedded:
        found = source.not_published(header.get("kid"), error)
    if found is None:
        if embedded:
            raise TRUSTED_KEYS_ONLY.refuse(
                error(), reason=f"key in {embedded[0]!r} header is not one of the issuer's keys")
        raise error()
    if not _verify_asymmetric(token, found, alg):
        raise error()
    return claims
