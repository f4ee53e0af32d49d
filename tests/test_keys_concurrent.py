"""Keys made on first use, by several threads at once (credential-stuffing's eight workers do).

Before: each thread saw no key file, generated its own key and wrote it; one read a
half-written file (JSONDecodeError) or signed with a key other than the one registered
(PAR 401). Every caller must get the same keys, read from a whole file, kept private.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

from lab import keys


def _first_use_by_many(keys_dir: Path, threads: int = 12) -> tuple[list[Any], list[Any]]:
    """ensure_keyset called by `threads` threads released at once: (results, errors)."""
    start = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []

    def make() -> None:
        start.wait()
        try:
            results.append(keys.ensure_keyset(keys_dir, "attacker", ("ES256",)))
        except BaseException as exc:   # noqa: BLE001 - the failure under test
            errors.append(exc)

    workers = [threading.Thread(target=make) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results, errors


def test_concurrent_first_use_yields_one_keyset(tmp_path: Path) -> None:
    for attempt in range(5):
        keys_dir = tmp_path / f"keys-{attempt}"
        results, errors = _first_use_by_many(keys_dir)
        assert errors == []
        kids = {tuple(k["kid"] for k in keyset) for keyset in results}
        assert len(kids) == 1, kids
        on_disk = keys.ensure_keyset(keys_dir, "attacker", ("ES256",))
        assert {k["kid"] for k in on_disk} == set(next(iter(kids)))
        mode = stat.S_IMODE((keys_dir / "attacker.jwks.json").stat().st_mode)
        assert mode == 0o600
