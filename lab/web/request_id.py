"""X-Lab-Request-Id: every response names its request, so a client can find the events it caused."""

from __future__ import annotations

import re
import uuid

HEADER = "X-Lab-Request-Id"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(component: str) -> str:
    return f"{component}-{uuid.uuid4().hex[:16]}"


def accept_incoming(value: str | None) -> str | None:
    """Keep a caller-chosen id only when it is short and plain (it ends up in logs and events)."""
    return value if value and _SAFE.match(value) else None
