"""A lab of one's own for a measurement: temporary data, free loopback ports, gunicorn.

`fapi-lab load` and `fapi-lab benchmark` each measure on such a lab, so figures come from
the production-like serving mode and a workshop's lab is never touched. It is gone,
data and all, when the block ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.config import LabConfig
from lab.ports import free_loopback_port
from lab.serving import in_process
from lab.serving.in_process import RunningLab


@contextmanager
def private_lab(*, profile: str, workers: int, threads: int = 4, write_state: bool = True,
                prefix: str = "fapi-lab-private-") -> Iterator[RunningLab]:
    """Start it (no capture), yield the running lab, stop it and delete its data."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        config = LabConfig(data_dir=Path(data_dir) / "lab", as_port=free_loopback_port(),
                           bank_port=free_loopback_port(), tpp_port=free_loopback_port())
        lab = in_process.start(config, profile=profile, write_state=write_state, capture=False,
                           workers=workers, threads=threads)
        try:
            yield lab
        finally:
            lab.stop()
