"""Signing keys kept as private JWKs in the data directory; their public JWKS for discovery.

The AS signs ID tokens and access tokens with ES256 (allowed by every profile's
allow-list) and also publishes a PS256 key. The TPP has its own keys.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey

PUBLIC_FIELDS = {"kty", "crv", "x", "y", "n", "e", "kid", "use", "alg"}


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


def public_jwks(private_keys: list[dict[str, Any]]) -> dict[str, Any]:
    return {"keys": [{k: v for k, v in key.items() if k in PUBLIC_FIELDS}
                     for key in private_keys]}


def signing_key(private_keys: list[dict[str, Any]], alg: str = "ES256") -> dict[str, Any]:
    for key in private_keys:
        if key.get("alg") == alg:
            return key
    raise KeyError(f"no {alg} key")


def key_set(private_keys: list[dict[str, Any]]) -> KeySet:
    return KeySet.import_key_set({"keys": private_keys})
