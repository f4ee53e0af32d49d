"""The `fapi-lab` command line: lab.cli.commands parses and dispatches, one module per command.

The parser is not lab.cli.main: a submodule named `main` would replace this package's `main`
function as soon as it was imported. Light on purpose: the dashboard and the attacker import
lab.cli.client (how to reach the running lab) and must not load every command, and the
attacker's commands with them.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The `fapi-lab` entry point (pyproject.toml names lab.cli:main)."""
    from lab.cli.commands import main as run

    return run(argv)
