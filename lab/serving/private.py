"""A lab of one's own: temporary data, free loopback ports, nothing shared with a workshop's lab.

`fapi-lab load` and `fapi-lab benchmark` measure on one (gunicorn, no capture), `fapi-lab
matrix` runs its attacks on one per job (capture on), and the tests start theirs from the
same config, so a workshop's running lab is never reconfigured behind its users' backs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from lab.config import PASSWORD_ITERATIONS, LabConfig
from lab.ports import free_loopback_port
from lab.serving import in_process
from lab.serving.in_process import RunningLab


def private_config(data_dir: Path, access_tokens: str = "jwt",
                   password_iterations: int = PASSWORD_ITERATIONS) -> LabConfig:
    """A config in `data_dir` whose AS, bank, TPP (and gateway) listen on free loopback ports."""
    return LabConfig(data_dir=data_dir, as_port=free_loopback_port(),
                     bank_port=free_loopback_port(), tpp_port=free_loopback_port(),
                     access_tokens=access_tokens, gateway_port=free_loopback_port(),
                     password_iterations=password_iterations)


@contextmanager
def private_lab(*, profile: str, workers: int = 0, threads: int = 4, capture: bool = False,
                write_state: bool = True, prefix: str = "fapi-lab-private-",
                data_dir: Path | None = None, access_tokens: str = "jwt",
                password_iterations: int = PASSWORD_ITERATIONS) -> Iterator[RunningLab]:
    """Start it, yield the running lab, stop it.

    Without `data_dir` its data lives in a temporary directory (named with `prefix`) that is
    deleted with it; with one (a test's tmp_path) the caller keeps the data.
    `password_iterations`: the customers' password work factor (lab.config says which labs
    may store a low one).
    """
    with ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))) \
                / "lab"
        config = private_config(data_dir, access_tokens, password_iterations)
        lab = in_process.start(config, profile=profile,
                               write_state=write_state, capture=capture, workers=workers,
                               threads=threads)
        stack.callback(lab.stop)
        yield lab
