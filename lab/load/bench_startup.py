"""How long `fapi-lab` takes to answer: whole-process runs of three everyday commands.

Each command is started as a user starts it (the venv's `fapi-lab` script, which `./fapi-lab`
execs once its venv check is done) and timed from start to exit, start-up and imports
included; the median of several runs is the figure, after one run not counted (the first
may compile bytecode). `status` asks the benchmark's private lab. Printed, never asserted.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_S = 0.5     # issue 18: --help, totp alice and status answer in under half a second


@dataclass(frozen=True)
class StartupCommand:
    label: str
    argv: tuple[str, ...]


COMMANDS: tuple[StartupCommand, ...] = (
    StartupCommand("fapi-lab --help", ("--help",)),
    StartupCommand("fapi-lab totp alice", ("totp", "alice")),
    StartupCommand("fapi-lab status", ("status",)),
)


@dataclass
class StartupTiming:
    label: str
    wall_s: list[float]
    cpu_s: list[float]
    exit_codes: list[int]

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def met(self) -> bool:
        return self.median_s < TARGET_S

    def to_json(self) -> dict[str, Any]:
        return {"command": self.label, "runs": len(self.wall_s),
                "median_s": round(self.median_s, 3), "min_s": round(min(self.wall_s), 3),
                "max_s": round(max(self.wall_s), 3),
                "cpu_median_s": round(statistics.median(self.cpu_s), 3),
                "exit_codes": sorted(set(self.exit_codes)), "target_s": TARGET_S,
                "met": self.met}


def entry_point() -> list[str]:
    """The venv's console script beside this interpreter, else `python -m lab.cli`."""
    script = Path(sys.executable).parent / "fapi-lab"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lab.cli"]


def bytecode_note() -> str:
    """Whether start-up can use cached bytecode: without it every run compiles its imports."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") or sys.flags.dont_write_bytecode:
        return "PYTHONDONTWRITEBYTECODE is set: modules not yet compiled are compiled every run"
    return "bytecode cached (__pycache__ written)"


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def measure(data_dir: Path, runs: int) -> list[StartupTiming]:
    """Each command `runs` times after one run not counted, interleaved so that a burst of
    load on the machine falls on every command alike."""
    env = {**os.environ, "FAPI_LAB_HOME": str(data_dir)}
    env.pop("FAPI_LAB_DEBUG", None)
    base = entry_point()
    timings = {c.label: StartupTiming(c.label, [], [], []) for c in COMMANDS}
    for round_ in range(runs + 1):
        for command in COMMANDS:
            wall, cpu, code = _once([*base, *command.argv], env)
            if round_:
                found = timings[command.label]
                found.wall_s.append(wall)
                found.cpu_s.append(cpu)
                found.exit_codes.append(code)
    return list(timings.values())
