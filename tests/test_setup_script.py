"""./fapi-lab (the bash script): `up` installs only what the lab needs; the test tools wait
for `./fapi-lab test`. Run against a copy of the script with a stand-in .venv that records
every pip call, so nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _project(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(ROOT / "fapi-lab", tmp_path / "fapi-lab")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("python", f'echo "$*" >> {calls}\n'), ("fapi-lab", "exit 0\n")):
        tool = bin_dir / name
        tool.write_text("#!/bin/sh\n" + body)
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tmp_path / "fapi-lab", calls


def _run(script: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = subprocess.run([str(script), *args], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_up_installs_the_lab_without_the_test_tools_and_only_once(tmp_path: Path) -> None:
    script, calls = _project(tmp_path)
    _run(script, "up", "--help")
    installs = calls.read_text().splitlines()
    assert installs == ["-m pip install --disable-pip-version-check --no-compile "
                        f"-e {tmp_path}",
                        "-m lab.cli.bytecode"], installs  # compiled once, what the lab imports
    _run(script, "status")
    assert calls.read_text().splitlines() == installs  # the stamp holds: nothing again


def test_a_venv_made_by_test_serves_up_without_reinstalling(tmp_path: Path) -> None:
    script, calls = _project(tmp_path)
    want = subprocess.run(["sha256sum", str(tmp_path / "pyproject.toml")], capture_output=True,
                          text=True, check=True).stdout[:16]
    for stamp in (".fapi-lab-installed", ".fapi-lab-installed-test"):
        (tmp_path / ".venv" / stamp).write_text(want + "\n")
    _run(script, "up", "--help")
    assert not calls.exists()


def test_the_bytecode_step_names_modules_that_exist_and_refuses_where_it_cannot_write() -> None:
    """A misspelt entry would silently compile nothing (import errors are skipped there for
    optional libraries), and with bytecode writing off the step would only waste time."""
    import importlib.util

    from lab.cli import bytecode

    missing = [m for m in bytecode.ENTRY + bytecode.TEST if importlib.util.find_spec(m) is None]
    assert missing == []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    refused = subprocess.run([sys.executable, "-m", "lab.cli.bytecode"],
                             capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert refused.returncode == 2 and "PYTHONDONTWRITEBYTECODE" in refused.stderr
