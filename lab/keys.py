"""Signing keys kept as private JWKs in the data directory; their public JWKS for discovery.

The AS signs ID tokens and access tokens with ES256 (allowed by every profile's
allow-list) and also publishes a PS256 key. The TPP has its own keys.

Rotation (`rotate_keyset`) puts a new key first, published at once but signing only from
`lab_active_at`, and stamps the old one with `lab_retire_at` (lab-clock seconds): it signs
until the new key is active, stays published until it retires, never signs again. The
file is the shared state every AS worker reads (`KeyFile` re-reads it when it changes),
so a rotation reaches all gunicorn workers at their next request. Retired private keys
stay in the file: the lab keeps them to play the "leaked backup" of attacks.md §3 F.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey

PUBLIC_FIELDS = {"kty", "crv", "x", "y", "n", "e", "kid", "use", "alg"}
# Lab-private members of a private JWK (never published): when it was made, when it retires.
CREATED_AT = "lab_created_at"
ACTIVE_AT = "lab_active_at"
RETIRE_AT = "lab_retire_at"


class RotationInProgress(Exception):
    """A key of this alg is still retiring: a second rotation would stack overlaps."""

    def __init__(self, kid: str, retire_at: float) -> None:
        super().__init__(f"key {kid} is still retiring (until {retire_at:.0f})")
        self.kid = kid
        self.retire_at = retire_at


def _generate(alg: str) -> dict[str, Any]:
    key: ECKey | RSAKey
    if alg == "ES256":
        key = ECKey.generate_key("P-256", private=True)
    elif alg == "PS256" or alg == "RS256":
        key = RSAKey.generate_key(2048, private=True)
    else:
        raise ValueError(f"no key generator for {alg}")
    data = key.as_dict(private=True)
    data["kid"] = key.thumbprint()
    data["alg"] = alg
    data["use"] = "sig"
    return data


def ensure_keyset(keys_dir: Path, owner: str, algs: tuple[str, ...] = ("ES256", "PS256")
                  ) -> list[dict[str, Any]]:
    """Load `<owner>.jwks.json` (private), creating keys for `algs` on first use.

    Check and create happen under an exclusive lock on `.<owner>.lock`, and the file is
    written whole (a 0600 temp file renamed into place): callers in several threads or
    processes at once all get the same keys, never a half-written file."""
    path = keys_dir / f"{owner}.jwks.json"
    keys_dir.mkdir(parents=True, exist_ok=True)
    with open(keys_dir / f".{owner}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys: list[dict[str, Any]] = (json.loads(path.read_text())["keys"]
                                      if path.exists() else [])
        have = {k["alg"] for k in keys}
        missing = [alg for alg in algs if alg not in have]
        if missing:
            keys.extend(_generate(alg) for alg in missing)
            _write_private(path, json.dumps({"keys": keys}, indent=1))
    return keys


def _write_private(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def rotate_keyset(keys_dir: Path, owner: str, alg: str, *, now: float, retire_at: float,
                  active_at: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new `alg` key first in `<owner>.jwks.json`, signing from `active_at` (default: now);
    the old one signs until then and retires at `retire_at`.

    Refused (RotationInProgress) while an earlier rotation's key has not retired yet. Same
    lock and whole-file write as ensure_keyset. Returns (new key, old key)."""
    path = keys_dir / f"{owner}.jwks.json"
    with open(keys_dir / f".{owner}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys: list[dict[str, Any]] = json.loads(path.read_text())["keys"]
        for key in keys:
            if key.get("alg") == alg and float(key.get(RETIRE_AT, 0)) > now:
                raise RotationInProgress(str(key.get("kid")), float(key[RETIRE_AT]))
        old = signing_key(keys, alg)
        old[RETIRE_AT] = retire_at
        new = _generate(alg)
        new[CREATED_AT] = now
        new[ACTIVE_AT] = now if active_at is None else active_at
        keys.insert(0, new)
        _write_private(path, json.dumps({"keys": keys}, indent=1))
    return new, old


def retired(key: dict[str, Any], now: float) -> bool:
    return RETIRE_AT in key and float(key[RETIRE_AT]) <= now


def published(private_keys: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """The keys still in the JWKS at lab time `now`: current and retiring, not retired."""
    return [key for key in private_keys if not retired(key, now)]


def public_jwks(private_keys: list[dict[str, Any]]) -> dict[str, Any]:
    return {"keys": [{k: v for k, v in key.items() if k in PUBLIC_FIELDS}
                     for key in private_keys]}


def active(key: dict[str, Any], now: float) -> bool:
    """Whether a key may sign at lab time `now` (a rotated-in key is published before that)."""
    return float(key.get(ACTIVE_AT, 0)) <= now


def signing_key(private_keys: list[dict[str, Any]], alg: str = "ES256",
                now: float | None = None) -> dict[str, Any]:
    """The key that signs with `alg`: the first one not stamped to retire; given `now`, among
    the keys active then (while a new key is only published, the retiring one still signs)."""
    fitting = [key for key in private_keys if key.get("alg") == alg]
    if now is not None:
        fitting = [key for key in fitting if active(key, now)] or fitting
    for key in fitting:
        if RETIRE_AT not in key:
            return key
    if fitting:
        return fitting[0]
    raise KeyError(f"no {alg} key")


class KeyFile:
    """One owner's key file as every worker process sees it: re-read when it changes.

    A stat per call (inode, size, mtime) is what keeps gunicorn workers on the same keys
    after `fapi-lab keys rotate` without a restart; the parse happens only on change."""

    def __init__(self, keys_dir: Path, owner: str) -> None:
        self.path = keys_dir / f"{owner}.jwks.json"
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._keys: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        stat = self.path.stat()
        seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if seen != self._seen:
                self._keys = json.loads(self.path.read_text())["keys"]
                self._seen = seen
            return self._keys


def key_set(private_keys: list[dict[str, Any]]) -> KeySet:
    return KeySet.import_key_set({"keys": private_keys})
