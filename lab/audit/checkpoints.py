"""Signed head checkpoints, kept outside the store: what catches a rewritten or cut trail.

A checkpoint says "record `seq` has hash `hash`", signed ES256 with the lab's audit key
(`keys/audit.jwks.json`), one JSON line appended to `audit/checkpoints.jsonl` in the data
directory. Someone who can write the database (attacks.md §1, LI) can re-hash the chain
after an edit or delete its tail, but cannot sign a new checkpoint nor take one back.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import rfc8785
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from lab import keys

OWNER = "audit"
TYP = "fapi-lab-audit-checkpoint"
# By the data directory's text: hashing a Path per record cost more than the lookup.
_signers: dict[str, tuple[str, jwt.PyJWK, str]] = {}
_signers_lock = threading.Lock()


def path(data_dir: Path) -> Path:
    return data_dir / "audit" / "checkpoints.jsonl"


def key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / f"{OWNER}.jwks.json"


class CheckpointError(ValueError):
    """The checkpoint file (or the key to check it) cannot be trusted as it stands."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: float
    line: int


def _signer(data_dir: Path) -> tuple[str, jwt.PyJWK, str]:
    """The audit key's kid and key object, loaded once per data directory (PyJWT's algorithm
    over `cryptography`: joserfc's serialize_compact through its registry cost twice the
    signature), and the checkpoint file's path."""
    where = os.fspath(data_dir)
    found = _signers.get(where)
    if found is not None:
        return found
    with _signers_lock:
        if where not in _signers:
            private = keys.signing_key(keys.ensure_keyset(data_dir / "keys", OWNER, ("ES256",)))
            _signers[where] = (private["kid"], jwt.PyJWK(private, algorithm="ES256"),
                               os.fspath(path(data_dir)))
        return _signers[where]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(kid: str, key: jwt.PyJWK, payload: bytes) -> str:
    """A compact JWS (RFC 7515 §7.1) over `payload`, ES256 in its raw R||S form (RFC 7518
    §3.4); `_check` verifies it with joserfc, so the two must agree (a test holds it)."""
    head = _b64(json.dumps({"alg": "ES256", "kid": kid, "typ": TYP},
                           separators=(",", ":")).encode())
    body = _b64(payload)
    signature = key.Algorithm.sign(f"{head}.{body}".encode(), key.key)
    return f"{head}.{body}.{_b64(signature)}"


KEEP_OPEN = 8   # checkpoint files one process keeps open: the oldest is closed past this


class _Appender:
    """The checkpoint file, kept open for appending by this process: opening it (and making
    its directory) per record cost more than signing. Reopened when the file at the path is
    another one (deleted, replaced: a reset) or the process forked (a shared open file would
    share its flock, and lines of two processes could mix)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[int, int, Any]] = {}
        self._lock = threading.Lock()

    def write(self, target: str, line: str) -> None:
        with self._lock:
            out = self._open(target)
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                out.write(line)
                out.flush()
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)

    def _open(self, target: str) -> Any:
        kept = self._files.get(target)
        try:
            inode = os.stat(target).st_ino
        except FileNotFoundError:
            inode = None
        if kept is not None and kept[0] == os.getpid() and kept[1] == inode:
            return kept[2]
        if kept is not None and kept[0] == os.getpid():
            kept[2].close()
        self._files.pop(target, None)
        while len(self._files) >= KEEP_OPEN:   # a process serving many labs (tests, matrix)
            pid, _, oldest = self._files.pop(next(iter(self._files)))
            if pid == os.getpid():
                oldest.close()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        out = open(target, "a", encoding="utf-8")  # noqa: SIM115 - kept open on purpose
        self._files[target] = (os.getpid(), os.fstat(out.fileno()).st_ino, out)
        return out


_appender = _Appender()


def write(data_dir: Path, seq: int, digest: str, ts: float) -> None:
    """Append one signed checkpoint (under a lock: lines of several processes never mix)."""
    kid, key, target = _signer(data_dir)
    payload = rfc8785.dumps({"seq": seq, "hash": digest, "ts": ts})
    token = _sign(kid, key, payload)
    line = json.dumps({"seq": seq, "hash": digest, "ts": ts, "jws": token}) + "\n"
    _appender.write(target, line)


def _public_keys(data_dir: Path) -> dict[str, ECKey]:
    """The audit key set, read only (never created: a verifier changes nothing)."""
    where = key_path(data_dir)
    try:
        found = json.loads(where.read_text())["keys"]
        return {k["kid"]: ECKey.import_key({f: v for f, v in k.items()
                                            if f in keys.PUBLIC_FIELDS}) for k in found}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoints exist but the audit key {where} is missing: "
                              f"they cannot be checked") from None
    except (OSError, ValueError, KeyError, TypeError, JoseError) as error:
        raise CheckpointError(f"the audit key {where} is unreadable "
                              f"({type(error).__name__})") from None


def _check(number: int, text: str, public: dict[str, ECKey]) -> Checkpoint:
    where = f"checkpoint line {number}"
    try:
        line: Any = json.loads(text)
        seq, digest, ts, token = line["seq"], line["hash"], line["ts"], line["jws"]
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{where}: not a checkpoint (JSON with seq, hash, ts, jws)") \
            from None
    if not isinstance(token, str) or not isinstance(seq, int) or isinstance(seq, bool):
        raise CheckpointError(f"{where}: seq or jws has the wrong type")
    try:
        header = jws.extract_compact(token.encode()).headers()
        key = public.get(header.get("kid", ""))
        if key is None or header.get("alg") != "ES256":
            raise CheckpointError(f"{where}: signed with a key that is not the audit key")
        signed = json.loads(jws.deserialize_compact(token, key, algorithms=["ES256"]).payload)
    except CheckpointError:
        raise
    except (JoseError, ValueError, TypeError, AttributeError):
        raise CheckpointError(f"{where}: its signature does not verify with the audit key") \
            from None
    if signed != {"seq": seq, "hash": digest, "ts": ts}:
        raise CheckpointError(f"{where}: what it says differs from what was signed")
    return Checkpoint(seq, str(digest), float(ts), number)


def read(data_dir: Path, progress: Callable[[int], None] | None = None
         ) -> dict[int, Checkpoint]:
    """Every checkpoint, checked, by seq; {} when none was ever written.

    Raises CheckpointError naming the first line that is not a valid signed checkpoint."""
    source = path(data_dir)
    if not source.exists():
        return {}
    public = _public_keys(data_dir)
    found: dict[int, Checkpoint] = {}
    try:
        with open(source, encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                if text.strip():
                    checkpoint = _check(number, text, public)
                    earlier = found.get(checkpoint.seq)
                    if earlier is not None and earlier.hash != checkpoint.hash:
                        raise CheckpointError(
                            f"checkpoint line {number}: record {checkpoint.seq} was "
                            f"signed with two different hashes (line {earlier.line} too)")
                    found[checkpoint.seq] = checkpoint
                if progress is not None:
                    progress(number)
    except UnicodeDecodeError:
        raise CheckpointError(f"{source} is not UTF-8 text") from None
    return found
