"""Pairwise subject identifiers (OIDC Core §8, §8.1): one pseudonym per (sector, user).

A client registered with `subject_type=pairwise` (OIDC Registration §2), or every client while
`pairwise_subjects` is on (the AS's privacy policy: colluding apps cannot opt out by
registering `public`), gets `sub` = HMAC-SHA256(salt, sector ‖ username), base64url. The salt
is 32 random bytes in the data directory (secrets/pairwise-salt, mode 600), never in git.

The sector (§8.1) is the host of the redirect URIs; the lab's parties all live on 127.0.0.1
and differ by port only, so the lab's "host" is host:port — in a deployment each app has its
own host name. A `sector_identifier_uri` is refused at registration: honouring it means the
AS fetching a client-chosen URL (OIDC Registration §5), and the lab fetches nothing it does
not serve itself; one sector per client keeps the pseudonym stable without the fetch.

The same pseudonym goes into the ID token, UserInfo, introspection and the JWT access token
(RFC 9068 §6: a client can read its JWT access token, so a public `sub` there would undo the
pseudonym). Each pseudonym handed out is recorded (lab/domain/pseudonyms.py), and the bank,
which shares that store, finds the customer through it (`customer_of`); the phantom-token
pattern's inner JWT is the other way (docs/subjects.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lab import context
from lab.controls import guard
from lab.domain import pseudonyms
from lab.store.base import Store

PAIRWISE = guard("pairwise_subjects")
SUBJECT_TYPES = ("public", "pairwise")
SALT_BYTES = 32
_SALTS: dict[Path, bytes] = {}
_RECORDED: set[tuple[Path, str, str]] = set()     # (salt, sector, sub) this process wrote


def salt_file(data_dir: Path) -> Path:
    return Path(data_dir) / "secrets" / "pairwise-salt"


def read_salt(path: Path) -> bytes:
    """The salt, created once (write to a private temporary file, then link: two workers
    racing on a new data directory end up with the same salt)."""
    if path in _SALTS:
        return _SALTS[path]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(SALT_BYTES))
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    salt = path.read_bytes()
    if len(salt) < 16:
        raise RuntimeError(f"{path} holds no usable salt")
    _SALTS[path] = salt
    return salt


def sector(metadata: dict[str, Any]) -> str | None:
    """OIDC Core §8.1: the host of the registered redirect URIs (host:port in the lab), or
    None when they name several hosts (then the client would need a sector_identifier_uri)."""
    hosts = set()
    uris = metadata.get("redirect_uris")
    for uri in uris if isinstance(uris, list) else []:
        try:
            hosts.add(urlsplit(uri).netloc.lower() if isinstance(uri, str) else "")
        except ValueError:
            hosts.add("")
    hosts.discard("")
    return hosts.pop() if len(hosts) == 1 else None


def registered_type(metadata: dict[str, Any]) -> str:
    """OIDC Registration §2: subject_type; the AS's default is public."""
    return "pairwise" if metadata.get("subject_type") == "pairwise" else "public"


def pseudonym(salt: bytes, sector_id: str, username: str) -> str:
    """§8.1's "hash of sector, local account id and salt", as a keyed hash (HMAC)."""
    digest = hmac.new(salt, f"{sector_id}\x00{username}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_registration(metadata: dict[str, Any]) -> str | None:
    """Why this registration's subject metadata is refused (invalid_client_metadata), or None."""
    kind = metadata.get("subject_type")
    if kind is not None and kind not in SUBJECT_TYPES:
        return "subject_type must be public or pairwise"
    if "sector_identifier_uri" in metadata:
        return "sector_identifier_uri is not supported: the sector is the redirect URIs' host"
    if kind == "pairwise" and sector(metadata) is None:
        # OIDC Registration §5: redirect URIs on several hosts need a sector_identifier_uri.
        return "subject_type pairwise needs redirect_uris on one host"
    return None


@dataclass(frozen=True)
class Subjects:
    """What `sub` a client gets for a user (the AS) and whose a `sub` is (the bank)."""

    salt_path: Path

    def subject(self, client_id: str, metadata: dict[str, Any], username: str, *,
                note: bool = False) -> str:
        """The user's `sub` for this client; `note`: record that pairwise_subjects gave a
        pseudonym to a client that registered public (the event an attack is judged by)."""
        kind = registered_type(metadata)
        forced = kind == "public" and PAIRWISE.on()
        sector_id = sector(metadata)
        if sector_id is None or (kind == "public" and not forced):
            return username
        if forced and note:
            PAIRWISE.prevented(f"client {client_id[:60]!r} registered subject_type public; "
                               f"its sub is the pairwise pseudonym for sector {sector_id[:80]}")
        sub = pseudonym(read_salt(self.salt_path), sector_id, username)
        ctx = context.current_or_none()
        if ctx is not None and (self.salt_path, sector_id, sub) not in _RECORDED:
            pseudonyms.remember(ctx.store, sector_id, sub, username)
            _RECORDED.add((self.salt_path, sector_id, sub))
        return sub


def customer_of(store: Store, sub: str, metadata: dict[str, Any] | None) -> str:
    """The customer a verified token's `sub` stands for: the one the AS gave that pseudonym
    to in the sector of the token's client (whatever the switch says now, so a token issued
    while it was on keeps working), else `sub` itself (a public identifier)."""
    sector_id = sector(metadata or {})
    found = pseudonyms.username_of(store, sector_id, sub) if sector_id else None
    return found or sub
