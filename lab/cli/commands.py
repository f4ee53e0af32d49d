"""fapi-lab: start the lab, and switch its controls while it runs.

Thin on purpose: argument parsing and printing. What a command changes, it asks
the running lab's admin API (lab.admin) to change, so the CLI, the dashboard and
tests all go through one door to the registry.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from lab.admin import describe
from lab.cli import attack as attacker_cli
from lab.cli import audit as cli_audit
from lab.cli import benchmark as bench_cli
from lab.cli import capture as cli_capture
from lab.cli import keys as cli_keys
from lab.cli import load as cli_load
from lab.cli import local as cli_local
from lab.cli import matrix as cli_matrix
from lab.cli import scenario as cli_scenario
from lab.cli import show as cli_show
from lab.cli.client import EXIT_USAGE, AdminClient, CliError, try_connect
from lab.clock import parse_duration
from lab.config import DATA_DIR_ENV, LOOPBACK, LabConfig, default_data_dir
from lab.controls import catalog
from lab.stopping import held_signals

EPILOG = f"data directory: --data-dir, else ${DATA_DIR_ENV}, else ~/.fapi-lab"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    # --data-dir works before or after the command; SUPPRESS keeps a later one from erasing it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help="the lab's data directory")
    parser = argparse.ArgumentParser(prog="fapi-lab", description=__doc__.splitlines()[0],
                                     epilog=EPILOG)
    parser.add_argument("--data-dir", type=Path, default=None, help="the lab's data directory")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    up = add("up", "start the lab and run until Ctrl-C")
    up.add_argument("--profile", help="apply this profile on start (default: keep the current)")
    up.add_argument("--no-capture", action="store_true", help="run without mitmproxy capture")
    up.add_argument("--host", default=LOOPBACK, help="bind address (default 127.0.0.1)")
    up.add_argument("--allow-remote", action="store_true",
                    help="allow a non-loopback --host (the lab is deliberately vulnerable)")
    for name, default in (("as", 9443), ("bank", 9444), ("tpp", 9445)):
        up.add_argument(f"--{name}-port", type=_port, default=default, metavar="N")
    up.add_argument("--dashboard-port", type=_port, default=8501, metavar="N")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    up.add_argument("--workers", type=int, default=0, metavar="N",
                    help="serve the AS and the bank with gunicorn, N worker processes "
                         "(production-like, for load tests; default 0: Werkzeug's "
                         "development server in this process)")
    up.add_argument("--threads", type=int, default=4, metavar="N",
                    help="threads per gunicorn worker (default 4)")
    up.add_argument("--store", metavar="URL", default=None,
                    help="redis://host:port[/db]: decide single use (codes, request_uris, "
                         "jti, refresh tokens) in that Redis server, for labs on several "
                         "hosts (default: the SQLite file)")

    dash = add("dashboard", "start the Streamlit dashboard alone, against the running lab")
    dash.add_argument("--port", type=_port, default=8501, metavar="N")

    status = add("status", "URLs, issuer, CA, profile and enabled controls of the running lab")
    status.add_argument("--json", action="store_true")

    controls = add("controls", "list controls; `show ID`; `set ID=on|off [ID.param=value]`")
    controls.add_argument("--json", action="store_true")
    csub = controls.add_subparsers(dest="action", metavar="ACTION")
    show = csub.add_parser("show", parents=[common], help="everything about one control")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    cset = csub.add_parser("set", parents=[common], help="switch controls, set parameters")
    cset.add_argument("assignments", nargs="+", metavar="ID=on|off|ID.param=value")

    profile = add("profile", "list profiles, or apply one")
    profile.add_argument("name", nargs="?")
    profile.add_argument("--json", action="store_true")

    events = add("events", "control-fired events: which control refused which request")
    events.add_argument("--json", action="store_true")
    events.add_argument("--request-id")
    events.add_argument("--control")
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")

    clock = add("clock", "show the lab clock, or `advance 20m`, or `reset`")
    clock.add_argument("action", nargs="?", choices=("show", "advance", "reset"), default="show")
    clock.add_argument("duration", nargs="?", help="for advance: 90s, 20m, 2h, 1h30m, ...")
    clock.add_argument("--json", action="store_true")

    cli_capture.add_parser(add, common)
    cli_keys.register(add, common)

    totp = add("totp", "a demo user's current one-time code")
    totp.add_argument("user")

    cli_load.register(add)
    bench_cli.register(add)
    attacker_cli.register(add)
    cli_matrix.register(add)
    cli_scenario.register(add)
    cli_audit.register(add)

    reset = add("reset", "wipe the data directory (the lab must be stopped)")
    reset.add_argument("--yes", "-y", action="store_true", help="do not ask")
    return parser


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """['pkce_required=off', 'code_short_lifetime.lifetime=30'] → the admin API body."""
    changes: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise CliError(f"expected ID=on|off or ID.param=value, got {item!r}", EXIT_USAGE)
        if "." in key:
            control_id, _, name = key.partition(".")
            try:
                parsed: Any = json.loads(value)
            except ValueError:
                parsed = value
            params.setdefault(control_id, {})[name] = parsed
        else:
            changes[key] = value
    body: dict[str, Any] = {}
    if changes:
        body["changes"] = changes
    if params:
        body["params"] = params
    return body


def emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def cmd_status(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    data = AdminClient.connect(config).get("/status")
    emit_json(data) if args.json else cli_show.status(data, console)
    return 0


def cmd_controls(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    if args.action == "set":
        result = AdminClient.connect(config).post("/controls",
                                                  parse_assignments(args.assignments))
        for control_id, on in result["changed"].items():
            console.print(f"{control_id}: {'on' if on else 'off'}", highlight=False)
        for note in result["notes"]:
            console.print(f"note: {note}", highlight=False)
        console.print(f"profile: {result['profile']}", highlight=False)
        return 0
    client = try_connect(config)
    if client is None:
        print(f"(no lab running for {config.data_dir}: catalog only, state unknown)",
              file=sys.stderr)
    if args.action == "show":
        if args.id not in catalog.BY_ID:
            raise CliError(f"unknown control {args.id!r} (`fapi-lab controls` lists them)",
                           EXIT_USAGE)
        data = client.get(f"/controls/{args.id}") if client else \
            describe.control_detail(catalog.get(args.id), None)
        data = {**data, "attacks": attacker_cli.control_attacks(args.id)}
        emit_json(data) if args.json else cli_show.control_detail(data, console)
        return 0
    data = client.get("/controls") if client else describe.controls(None)
    emit_json(data) if args.json else cli_show.controls(data, console)
    return 0


def cmd_profile(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    client = AdminClient.connect(config)
    if args.name:
        result = client.post("/profile", {"name": args.name})
        console.print(f"profile {result['profile']}: {len(result['enabled'])} controls on",
                      highlight=False)
        return 0
    data = client.get("/profiles")
    emit_json(data) if args.json else cli_show.profiles(data, console)
    return 0


def cmd_events(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    client = AdminClient.connect(config)
    query = {"request_id": args.request_id, "control": args.control, "limit": args.limit}
    data = client.get("/events", **query)
    if not args.follow:
        emit_json(data) if args.json else cli_show.events(data["events"], console)
        return 0
    header = True
    # Ctrl-C is how one stops following; held, it cannot land inside an HTTPS read.
    with held_signals(signal.SIGINT) as stop:
        while True:
            for event in data["events"] if args.json else ():
                print(json.dumps(event, ensure_ascii=False), flush=True)
            if data["events"] and not args.json:
                cli_show.events(data["events"], console, header=header)
                header = False
            if stop.wait(1.0):
                return 0
            data = client.get("/events", **query, since=data["last_id"])


def cmd_clock(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    seconds = 0.0
    if args.action == "advance":
        if not args.duration:
            raise CliError("say how far: fapi-lab clock advance 20m", EXIT_USAGE)
        try:
            seconds = parse_duration(args.duration)
        except ValueError as error:
            raise CliError(str(error), EXIT_USAGE) from None
    elif args.duration:
        raise CliError(f"`clock {args.action}` takes no duration (did you mean `clock advance "
                       f"{args.duration}`?)", EXIT_USAGE)
    client = AdminClient.connect(config)
    if args.action == "advance":
        data = client.post("/clock/advance", {"seconds": seconds})
    elif args.action == "reset":
        data = client.post("/clock/reset", {})
    else:
        data = client.get("/clock")
    emit_json(data) if args.json else cli_show.clock(data, console)
    return 0


COMMANDS = {
    "status": cmd_status,
    "controls": cmd_controls,
    "profile": cmd_profile,
    "events": cmd_events,
    "clock": cmd_clock,
    "capture": cli_capture.run,
    "keys": cli_keys.run,
    "totp": lambda config, args, console: cli_local.totp(config, args.user, console),
    "reset": lambda config, args, console: cli_local.reset(config, args.yes, console),
    "load": cli_load.run_load,
    "benchmark": bench_cli.run,
    "attack": attacker_cli.run,
    "matrix": cli_matrix.run,
    "scenario": cli_scenario.run,
    "audit": cli_audit.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    # Piped output (grep, tests, a log) gets wide tables instead of rich's 80-column default.
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    console = Console(highlight=False, soft_wrap=True, width=wide)
    try:
        if args.command == "up":
            from lab.cli.up import run_up

            return run_up(args, console)
        if args.command == "dashboard":
            from lab.cli.dashboard import run_dashboard

            return run_dashboard(LabConfig(data_dir=args.data_dir), args, console)
        return int(COMMANDS[args.command](LabConfig(data_dir=args.data_dir), args, console))
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
