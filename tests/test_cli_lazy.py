"""The CLI loads only what the command being run uses (lab.cli.commands.COMMANDS).

Not a timed test: it checks which modules a command loads, in a fresh interpreter. How long
the commands take is in `fapi-lab benchmark`'s start-up rows (docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli.commands import COMMANDS, build_parser, command_word

ROOT = Path(__file__).resolve().parent.parent

# What the fast commands must not load: the web stack, Redis, requests, the attacker.
HEAVY = ("flask", "werkzeug", "redis", "requests", "attacker", "cryptography", "jwt",
         "authlib", "mitmproxy", "lab.serving.in_process")

PROBE = """
import json, sys
from lab.cli.commands import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    """The exit code of `fapi-lab ARGV` run in a fresh interpreter, and the modules it loaded."""
    result = subprocess.run([sys.executable, "-c", PROBE, "--data-dir", str(tmp_path), *argv],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    last = json.loads(result.stderr.strip().splitlines()[-1])
    return last["code"], set(last["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)


def test_every_command_registers_its_arguments_from_its_module() -> None:
    parser = build_parser()   # every module imported, every register() run
    for name in COMMANDS:
        assert parser.parse_args([name, *_minimal(name)]).command == name


def _minimal(name: str) -> list[str]:
    """Arguments each command needs to parse (none for most)."""
    return {"totp": ["alice"], "scenario": ["list"], "audit": ["verify"]}.get(name, [])


@pytest.mark.parametrize("argv, word", [
    (["status"], "status"), (["--data-dir", "/x", "totp", "alice"], "totp"),
    (["--data-dir=/x", "status"], "status"), (["--data", "/x", "clock"], "clock"),
    (["--help"], None), ([], None), (["-h"], None),
])
def test_command_word_skips_options_and_the_data_dir_value(argv: list[str],
                                                           word: str | None) -> None:
    assert command_word(argv) == word


def test_help_lists_every_command_and_loads_no_command_module(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "lab.cli", "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"    {name}" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    modules = {c.module for c in COMMANDS.values()}
    assert not imported & modules
    assert not heavy_in(imported) and "rich.console" not in imported


def test_totp_loads_no_web_stack_nor_attacker(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "totp", "alice")
    assert code == 0
    assert heavy_in(modules) == []
    assert "rich" not in modules   # it prints plain text (Command(..., rich=False))


def test_status_loads_no_web_stack_nor_attacker_nor_catalog(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "status")
    assert code == 3   # no lab running in that directory: the readable error, exit 3
    assert heavy_in(modules) == []
    assert "lab.controls.catalog" not in modules


def test_a_command_still_loads_what_it_uses(tmp_path: Path) -> None:
    """The other side: `attack --list` imports the attacker when, and only when, it runs."""
    code, modules = loaded(tmp_path, "attack", "--list", "--json")
    assert code == 0 and "attacker.lookup" in modules
