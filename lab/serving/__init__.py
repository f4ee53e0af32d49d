"""Production-like serving: the AS and the bank under gunicorn, several worker processes."""

from __future__ import annotations

from typing import Any


def serving_text(serving: Any) -> str:
    """How the lab is served, in one line: the banner, status, `fapi-lab load` and its results.

    Here, with no import, so that `fapi-lab status` prints it without loading the catalog.
    """
    if not isinstance(serving, dict) or not serving.get("server"):
        return "an unknown server"
    workers = (f", {serving['workers']} workers × {serving['threads']} threads each for the "
               f"AS and the bank" if serving.get("workers") else "")
    return (f"{serving['server']}{workers}; single use decided in "
            f"{serving.get('single_use', 'sqlite')}")
