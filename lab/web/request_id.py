"""X-Lab-Request-Id: every response names its request, so a client can find the events it caused."""

from __future__ import annotations

import os
import re

HEADER = "X-Lab-Request-Id"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(component: str) -> str:
    """16 random hex digits, as uuid4's first 16 were, for a quarter of uuid4's CPU (it builds a
    UUID object). Not a counter: a client that could predict the next id of another's request
    could send its own requests under it (a caller may choose its id) and muddle attribution."""
    return f"{component}-{os.urandom(8).hex()}"


def accept_incoming(value: str | None) -> str | None:
    """Keep a caller-chosen id only when it is short and plain (it ends up in logs and events)."""
    return value if value and _SAFE.match(value) else None
