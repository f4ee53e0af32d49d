"""fapi-lab: start the lab, and switch its controls while it runs.

Each command lives in its own module, named in COMMANDS with its one-line help. Only the
module of the command being run is imported: `fapi-lab --help` imports none, `fapi-lab totp`
does not load Flask, Redis or the attacker. So a command module may import what it needs at
its top; this module (and lab.cli.client) must stay light.

A new command `fapi-lab audit`:
- lab/cli/audit.py with `register(add)`: `parser = add("audit", "help")`, then its
  arguments (`add.common` is the parent parser that gives sub-actions `--data-dir`);
  and `run(config, args, console) -> int`.
- one line in COMMANDS: `"audit": Command("lab.cli.audit", "help")`.
tests/test_cli_lazy.py checks that every command registers and that the fast commands
stay light.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.cli.client import CliError
from lab.config import DATA_DIR_ENV, LabConfig, default_data_dir

if TYPE_CHECKING:
    from rich.console import Console

EPILOG = f"data directory: --data-dir, else ${DATA_DIR_ENV}, else ~/.fapi-lab"


@dataclass(frozen=True)
class Command:
    """Where a command lives. `module` is imported only when the command runs (or asks for
    its own --help); `help` is what `fapi-lab --help` lists without importing it."""

    module: str
    help: str
    register: str = "register"   # register(add): add(name, help) gives the subparser
    run: str = "run"             # run(config, args, console) -> exit code
    rich: bool = True            # False: prints plain text, gets None for its console


COMMANDS: dict[str, Command] = {
    "up": Command("lab.cli.up", "start the lab and run until Ctrl-C"),
    "dashboard": Command("lab.cli.dashboard",
                         "start the Streamlit dashboard alone, against the running lab"),
    "status": Command("lab.cli.running", "URLs, issuer, CA, profile and enabled controls of "
                      "the running lab", "register_status", "run_status"),
    "controls": Command("lab.cli.running", "list controls; `show ID`; `set ID=on|off "
                        "[ID.param=value]`", "register_controls", "run_controls"),
    "profile": Command("lab.cli.running", "list profiles, or apply one",
                       "register_profile", "run_profile"),
    "events": Command("lab.cli.running", "control-fired events: which control refused which "
                      "request", "register_events", "run_events"),
    "clock": Command("lab.cli.running", "show the lab clock, or `advance 20m`, or `reset`",
                     "register_clock", "run_clock"),
    "capture": Command("lab.cli.capture", "what the capture proxy recorded: `list [--leg L]`, "
                       "`show ID`"),
    "totp": Command("lab.cli.local", "a demo user's current one-time code",
                    "register_totp", "run_totp", rich=False),
    "load": Command("lab.cli.load", "run Locust workloads against a private production-like "
                    "lab (or the running one); req/s, latency, ratios", run="run_load"),
    "benchmark": Command("lab.cli.benchmark", "issue 7's benchmark: bank calls/s and token "
                         "issuance/s against bare endpoints, ES256 and oidc-provider; CLI "
                         "start-up"),
    "attack": Command("lab.cli.attack", "run one catalog attack and tell its story (`--list` "
                      "lists them)"),
    "matrix": Command("lab.cli.matrix", "run every attack under every profile and each single "
                      "control; write matrix.json, matrix.md, matrix.html"),
    "scenario": Command("lab.cli.scenario", "workshop scenarios: `list`, `check FILE...`, "
                        "`run FILE...`"),
    "keys": Command("lab.cli.keys", "the AS signing keys: `list`, or `rotate` (new key signs, "
                    "old retires); `rotate-secret` for FinLens's client secret"),
    "audit": Command("lab.cli.audit", "the tamper-evident audit trail: `verify` it, or "
                     "`export` it as JSON lines (read-only; no running lab needed)"),
    "detect": Command("lab.cli.detect", "token theft under honest load: detected?, false alarms"),
    "reset": Command("lab.cli.local", "wipe the data directory (the lab must be stopped)",
                     "register_reset", "run_reset"),
}


def port_number(text: str) -> int:
    """argparse type of the port options (up, dashboard)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {value}")
    return value


class Add:
    """What a module's register() gets: add(name, help) returns that command's subparser."""

    def __init__(self, parsers: dict[str, argparse.ArgumentParser],
                 common: argparse.ArgumentParser) -> None:
        self.parsers = parsers
        self.common = common

    def __call__(self, name: str, help_text: str) -> argparse.ArgumentParser:
        parser = self.parsers[name]
        parser.description = help_text
        return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The command argv names (its first word that is no option nor --data-dir's value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word.startswith("-"):
            # --data-dir DIR, or an abbreviation argparse accepts (--data DIR)
            skip = "=" not in word and len(word) > 2 and "--data-dir".startswith(word)
        else:
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Every command listed; the arguments of argv's command only (of all when argv is None)."""
    # --data-dir works before or after the command; SUPPRESS keeps a later one from erasing it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help="the lab's data directory")
    parser = argparse.ArgumentParser(prog="fapi-lab", description=__doc__.splitlines()[0],
                                     epilog=EPILOG)
    parser.add_argument("--data-dir", type=Path, default=None, help="the lab's data directory")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers = {name: sub.add_parser(name, parents=[common], help=command.help,
                                    description=command.help)
               for name, command in COMMANDS.items()}
    chosen = list(COMMANDS) if argv is None else [command_word(argv)]
    add = Add(parsers, common)
    for name in chosen:
        command = COMMANDS.get(name or "")
        if command is not None:
            getattr(importlib.import_module(command.module), command.register)(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words).parse_args(words)
    args.data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    try:
        return run(args)
    except CliError as error:
        print(f"fapi-lab: {error.message}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a readable line, never a traceback, unless asked for one
        if os.environ.get("FAPI_LAB_DEBUG"):
            raise
        print(f"fapi-lab: unexpected error: {type(error).__name__}: {error} "
              f"(FAPI_LAB_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def console() -> Console:
    from rich.console import Console

    # Piped output (grep, tests, a log) gets wide tables instead of rich's 80-column default.
    # No :emoji: codes: nothing the CLI prints uses them, and a lab value that looked like one
    # would be rewritten; rich's table of them was a tenth of a second of every start-up.
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(highlight=False, soft_wrap=True, width=wide, emoji=False)


def run(args: argparse.Namespace) -> int:
    command = COMMANDS[args.command]
    handler: Any = getattr(importlib.import_module(command.module), command.run)
    return int(handler(LabConfig(data_dir=args.data_dir), args,
                       console() if command.rich else None))
