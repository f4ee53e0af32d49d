"""One lab per data directory: `fapi-lab up` holds an exclusive lock on `lab.lock` in it.

running.json alone could not say so: two `up`s started seconds apart both found none,
both served the same SQLite file, and the first to stop deleted the other's running.json.
flock is released by the kernel when the holder exits, even on kill -9, so a stale lock
never needs cleaning up; the file also names the holder, for the refusal's message.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "lab.lock"


class DataDirBusy(Exception):
    """Another process holds the data directory; the message names it."""

    def __init__(self, data_dir: Path, holder: dict[str, object]) -> None:
        self.data_dir = data_dir
        self.holder = holder
        pid = holder.get("pid")
        who = f"pid {pid}" if pid else "another process"
        what = f" ({holder['command']})" if holder.get("command") else ""
        since = holder.get("since")
        when = f", since {time.strftime('%H:%M:%S', time.localtime(float(since)))}" \
            if isinstance(since, (int, float)) else ""
        stop = f"kill {pid}" if pid else "stop it"
        super().__init__(
            f"{data_dir} is in use by {who}{what}{when}; one lab per data directory. Stop "
            f"it first (Ctrl-C in its terminal, or {stop}), or give this one another "
            f"--data-dir")


def _holder(fd: int) -> dict[str, object]:
    """What the holder wrote; it writes right after locking, so wait a moment for it."""
    for _ in range(20):
        raw = os.pread(fd, 4096, 0)
        if raw:
            try:
                value = json.loads(raw)
                return value if isinstance(value, dict) else {}
            except ValueError:
                pass
        time.sleep(0.05)
    return {}


@contextmanager
def hold(data_dir: Path, command: str = "fapi-lab up") -> Iterator[None]:
    """Hold the data directory for the block, or raise DataDirBusy at once (never wait)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_NOFOLLOW: a symlink planted as lab.lock is refused, not followed and truncated.
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirBusy(data_dir, _holder(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command,
                                  "since": time.time(), "argv": sys.argv}).encode(), 0)
        yield
        os.ftruncate(fd, 0)   # still locked here: nobody reads a half-cleared file
    finally:
        os.close(fd)          # releases the lock
