"""base64url without padding (RFC 7515 §2, Appendix C), the encoding of every JOSE part.

Written out rather than PyJWT's jwt.utils helpers: those turn a str into UTF-8 bytes first,
and the decoder then silently skips non-ASCII characters where the standard library, given
the str, refuses them; hostile input must keep being refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(part: str) -> bytes:
    """The bytes of one unpadded part; ValueError for anything that is not base64url."""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def sha256(data: bytes | str) -> str:
    """base64url(SHA-256(data)): PKCE S256 (RFC 7636 §4.2), ath (RFC 9449 §4.2), x5t#S256.

    A str is hashed as ASCII, as RFC 7636 and RFC 9449 both say; a non-ASCII character
    becomes "?", so the hash differs instead of raising."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    return encode(hashlib.sha256(raw).digest())


def json_segment(token: str, index: int) -> dict[str, Any]:
    """Segment `index` of a compact JWS as a JSON object, unverified (for display and
    bookkeeping, never for trust); {} when it is missing or not an object."""
    try:
        data = json.loads(decode(token.split(".")[index]))
    except (IndexError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
