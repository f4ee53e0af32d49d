"""The lab clock: wall time plus an offset kept in the store.

The AS, the bank and the TPP read time only from here, so `fapi-lab clock
advance 20m` shows lifetime behaviour (expired codes and tokens) without waiting.
The offset lives in the store so every worker process sees the same time.
"""

from __future__ import annotations

import re
import time

from lab import context
from lab.store.base import Store

OFFSET_KEY = "clock_offset"
# 9999-12-31T23:59:59Z: the last second a datetime (and so every page and log) can show.
MAX_TIME = 253_402_300_799
# The lab clock stops well before it, so now + any lifetime still is a time.
LATEST = MAX_TIME - 100 * 365 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def offset(store: Store) -> float:
    return float(store.get_setting(OFFSET_KEY, 0.0))


def now(store: Store | None = None) -> float:
    """Lab time in seconds since the epoch."""
    ctx = context.current_or_none()
    if store is None:
        store = ctx.store if ctx else None
    if store is None:
        return time.time()
    if ctx is not None and store is ctx.store:
        # A web request reads the offset once, like its switches (lab.controls.guard).
        return time.time() + float(ctx.cached(OFFSET_KEY, lambda: offset(store)))
    return time.time() + offset(store)


def now_int(store: Store | None = None) -> int:
    return int(now(store))


def is_time(value: object) -> bool:
    """A JWT NumericDate (RFC 7519 §2) the lab can compute with: a finite JSON number within
    ±MAX_TIME. 10**400 or 1e400 is malformed, not "far in the future"."""
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and -MAX_TIME <= value <= MAX_TIME


def advance(store: Store, seconds: float) -> float:
    """Move the lab clock forward (never backward) and return the new offset."""
    if seconds < 0:
        raise ValueError("the lab clock only moves forward")
    new = offset(store) + seconds
    if time.time() + new > LATEST:
        raise ValueError("the lab clock stops a century before year 9999, the last year dates "
                         "can show; reset it first")
    store.set_setting(OFFSET_KEY, new)
    _forget_cached()
    return new


def reset(store: Store) -> None:
    store.set_setting(OFFSET_KEY, 0.0)
    _forget_cached()


def _forget_cached() -> None:
    """The request that moved the clock reads the new time from here on."""
    ctx = context.current_or_none()
    if ctx is not None:
        ctx.forget(OFFSET_KEY)


def parse_duration(text: str) -> float:
    """'90s', '20m', '2h', '3d', '1h30m' or plain seconds → seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 20m, 2h, 3d)")
    return sum(float(n) * _UNITS[u] for n, u in parts)
