"""Client secret expiry (RFC 7591 §3.2.1 `client_secret_expires_at`) and its check.

Every secret the AS issues (registration, RFC 7592 update) expires after the
client_secret_rotation control's `lifetime` on the lab clock, whether the control is on or
not, so clients always see a real expiry. Only while the control is on does the token
endpoint refuse a secret past it: the client must rotate it through RFC 7592 first.
"""

from __future__ import annotations

from typing import Any

from lab import clock
from lab.controls import guard

from .errors import InvalidClientError

ROTATION = guard("client_secret_rotation")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def expires_at() -> int:
    """RFC 7591 §3.2.1: "Time at which the client secret will expire or 0 if it will not"."""
    return clock.now_int() + int(ROTATION.param("lifetime", 86400))


def check_not_expired(client: Any, method: str | None) -> None:
    """After a secret authenticated the client: refuse it if it is past its expiry (when on)."""
    if method not in SECRET_METHODS or not ROTATION.on():
        return
    # The expiry of the secret that authenticated (a replaced one keeps its own).
    used = getattr(client, "secret_expires_at", None)
    expiry = int(used if used is not None else getattr(client, "client_secret_expires_at", 0)
                 or 0)
    if expiry and expiry <= clock.now_int():
        raise ROTATION.refuse(InvalidClientError(status_code=401),
                              reason=f"client {client.get_client_id()}'s secret expired at "
                                     f"{expiry}; rotate it with PUT on its registration "
                                     "(RFC 7592)")
