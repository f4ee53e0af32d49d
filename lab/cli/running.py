"""The commands that read or switch the running lab: status, controls, profile, events, clock.

Thin on purpose: argument parsing and printing. What a command changes, it asks the running
lab's admin API (lab.admin) to change, so the CLI, the dashboard and tests all go through one
door to the registry. lab.cli.commands registers each one (register_X, run_X) and imports this
module only when one of them runs.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from lab.cli import show as cli_show
from lab.cli.client import EXIT_USAGE, AdminClient, CliError, try_connect
from lab.config import LabConfig


def emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def register_status(add: Any) -> None:
    status = add("status", "URLs, issuer, CA, profile and enabled controls of the running lab")
    status.add_argument("--json", action="store_true")


def run_status(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    data = AdminClient.connect(config).get("/status")
    emit_json(data) if args.json else cli_show.status(data, console)
    return 0


def register_controls(add: Any) -> None:
    controls = add("controls", "list controls; `show ID`; `set ID=on|off [ID.param=value]`")
    controls.add_argument("--json", action="store_true")
    csub = controls.add_subparsers(dest="action", metavar="ACTION")
    show = csub.add_parser("show", parents=[add.common], help="everything about one control")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    cset = csub.add_parser("set", parents=[add.common], help="switch controls, set parameters")
    cset.add_argument("assignments", nargs="+", metavar="ID=on|off|ID.param=value")


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


def run_controls(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    if args.action == "set":
        result = AdminClient.connect(config).post("/controls",
                                                  parse_assignments(args.assignments))
        for control_id, on in result["changed"].items():
            console.print(f"{control_id}: {'on' if on else 'off'}", highlight=False)
        for note in result["notes"]:
            console.print(f"note: {note}", highlight=False)
        console.print(f"profile: {result['profile']}", highlight=False)
        return 0
    # The catalog and the attacks are read only here: `status` and `totp` never load them.
    from lab.admin import describe
    from lab.controls import catalog

    client = try_connect(config)
    if client is None:
        print(f"(no lab running for {config.data_dir}: catalog only, state unknown)",
              file=sys.stderr)
    if args.action == "show":
        from lab.cli.attack import control_attacks

        if args.id not in catalog.BY_ID:
            raise CliError(f"unknown control {args.id!r} (`fapi-lab controls` lists them)",
                           EXIT_USAGE)
        data = client.get(f"/controls/{args.id}") if client else \
            describe.control_detail(catalog.get(args.id), None)
        data = {**data, "attacks": control_attacks(args.id)}
        emit_json(data) if args.json else cli_show.control_detail(data, console)
        return 0
    data = client.get("/controls") if client else describe.controls(None)
    emit_json(data) if args.json else cli_show.controls(data, console)
    return 0


def register_profile(add: Any) -> None:
    profile = add("profile", "list profiles, or apply one")
    profile.add_argument("name", nargs="?")
    profile.add_argument("--json", action="store_true")


def run_profile(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    client = AdminClient.connect(config)
    if args.name:
        result = client.post("/profile", {"name": args.name})
        console.print(f"profile {result['profile']}: {len(result['enabled'])} controls on",
                      highlight=False)
        return 0
    data = client.get("/profiles")
    emit_json(data) if args.json else cli_show.profiles(data, console)
    return 0


def register_events(add: Any) -> None:
    events = add("events", "control-fired events: which control refused which request")
    events.add_argument("--json", action="store_true")
    events.add_argument("--request-id")
    events.add_argument("--control")
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")


def run_events(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    from lab.stopping import held_signals

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


def register_clock(add: Any) -> None:
    clock = add("clock", "show the lab clock, or `advance 20m`, or `reset`")
    clock.add_argument("action", nargs="?", choices=("show", "advance", "reset"), default="show")
    clock.add_argument("duration", nargs="?", help="for advance: 90s, 20m, 2h, 1h30m, ...")
    clock.add_argument("--json", action="store_true")


def run_clock(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    from lab.clock import parse_duration

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
