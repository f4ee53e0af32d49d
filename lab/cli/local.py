"""CLI commands that work on this machine without a running lab: `totp` and `reset`."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp

from lab.cli.client import EXIT_USAGE, CliError, read_running, state_pid, try_connect
from lab.config import LabConfig
from lab.domain.customers import DEMO_USERS
from lab.serving import datadir_lock

if TYPE_CHECKING:   # totp prints plain text: rich is not imported for it
    from rich.console import Console

# Files only a lab data directory holds: `reset` wipes a directory only when it finds one,
# so a mistyped --data-dir (say, $HOME) is never deleted.
LAB_MARKERS = ("admin-token", "lab.sqlite3", "pki")


def register_totp(add: Any) -> None:
    add("totp", "a demo user's current one-time code").add_argument("user")


def run_totp(config: LabConfig, args: argparse.Namespace, _console: None) -> int:
    return totp(config, args.user)


def register_reset(add: Any) -> None:
    reset_parser = add("reset", "wipe the data directory (the lab must be stopped)")
    reset_parser.add_argument("--yes", "-y", action="store_true", help="do not ask")


def run_reset(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    return reset(config, args.yes, console)


def totp(config: LabConfig, username: str) -> int:
    """Print the user's current code: at real time, as an authenticator app shows it
    (the lab clock never applies to TOTP, see lab.domain.customers)."""
    users = {u.username: u for u in DEMO_USERS}
    user = users.get(username)
    if user is None:
        raise CliError(f"unknown demo user {username!r} (known: {', '.join(users)})", EXIT_USAGE)
    if user.second_factor != "totp" or not user.totp_secret:
        client = try_connect(config)
        where = (client.base.removesuffix("/admin") if client else config.as_url) + "/lab/sms"
        print(f"{username} has no TOTP app: his 4-digit code comes by SMS. "
              f"Start a login, then read it at {where}")
        return 0
    generator = pyotp.TOTP(user.totp_secret)
    now = time.time()
    print(generator.at(now))
    left = generator.interval - int(now) % generator.interval
    print(f"(real time, like an authenticator app: the lab clock does not apply to TOTP; "
          f"valid for {left} more seconds)", file=sys.stderr)
    return 0


def _looks_like_lab_dir(path: Path) -> bool:
    return any((path / marker).exists() for marker in LAB_MARKERS)


def reset(config: LabConfig, yes: bool, console: Console) -> int:
    """Wipe the data directory: registrations, consents, events, keys, CA, admin token."""
    running = read_running(config)
    if running is not None:
        raise CliError(f"a lab is running for {config.data_dir} (pid {state_pid(running)}); "
                       f"stop it first, then reset")
    data_dir = config.data_dir
    if not data_dir.exists():
        console.print(f"nothing to reset: {data_dir} does not exist", highlight=False)
        return 0
    if not data_dir.is_dir() or not _looks_like_lab_dir(data_dir):
        raise CliError(f"{data_dir} does not look like a FAPI Lab data directory "
                       f"(none of {', '.join(LAB_MARKERS)}); not deleting it")
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("reset needs confirmation: run it in a terminal or add --yes",
                           EXIT_USAGE)
        answer = console.input(f"Delete {data_dir} (users' consents, registrations, events, "
                               f"keys and the lab CA)? Type 'yes': ")
        if answer.strip().lower() != "yes":
            console.print("not reset", highlight=False)
            return 1
    try:
        with datadir_lock.hold(data_dir, "fapi-lab reset"):  # an `up` starting right now
            shutil.rmtree(data_dir)
    except datadir_lock.DataDirBusy as busy:
        raise CliError(f"not reset: {busy}") from None
    console.print(f"reset: {data_dir} deleted; the next `fapi-lab up` starts afresh "
                  f"(new CA: trust it again)", highlight=False)
    return 0
