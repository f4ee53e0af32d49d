"""`fapi-lab attack`: run one catalog attack against the lab and tell its story."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from attacker import lookup, runner, story
from attacker.target import TargetError, open_target
from lab.config import LabConfig
from lab.controls import catalog as controls_catalog
from lab.controls import profiles

EXIT_USAGE = 2


class AttackCliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def register(add: Any) -> None:
    attack = add("attack", "run one catalog attack and tell its story (`--list` lists them)")
    attack.add_argument("id", nargs="?", help="attack id (kebab-case, as in attacks.md)")
    attack.add_argument("--list", action="store_true", help="every attack, implemented or "
                        "pending (and why)")
    attack.add_argument("--profile", help="run under this profile (default: the lab's current "
                        "switches)")
    attack.add_argument("--set", action="append", default=[], metavar="CONTROL=on|off",
                        help="switch a control for this run (repeatable)")
    attack.add_argument("--browser", action="store_true",
                        help="the victim is a real headless Chromium (demo mode)")
    attack.add_argument("--json", action="store_true")


def parse_switches(items: list[str]) -> dict[str, bool]:
    changes: dict[str, bool] = {}
    for item in items:
        control_id, sep, value = item.partition("=")
        if not sep or value not in ("on", "off"):
            raise AttackCliError(f"expected CONTROL=on|off, got {item!r}")
        if control_id not in controls_catalog.BY_ID:
            raise AttackCliError(f"unknown control {control_id!r} (`fapi-lab controls`)")
        changes[control_id] = value == "on"
    return changes


def control_attacks(control_id: str) -> list[dict[str, Any]]:
    """The catalog attacks naming a control in `blocked_by`, for `fapi-lab controls show`.

    The lab never reads the attacks (attacker/attacks/), so the CLI adds them to the lab's
    description of the control, whether that came from a running lab or the catalog alone.
    """
    return [lookup.row(entry) for entry in lookup.blocked_by(control_id)]


def _list(args: argparse.Namespace, console: Console) -> int:
    rows = lookup.listing()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"{sum(r['state'] == 'implemented' for r in rows)} of {len(rows)} "
                  "catalog attacks implemented")
    for column in ("id", "attacker", "victim", "state"):
        table.add_column(column)
    for r in rows:
        state = r["state"] if r["state"] == "implemented" else f"pending: {r['reason']}"
        table.add_row(r["id"], r["attacker"], r["victim"], state)
    console.print(table)
    return 0


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    try:
        if args.list:
            return _list(args, console)
        if not args.id:
            raise AttackCliError("name an attack (`fapi-lab attack --list` lists them)")
        try:
            attack = lookup.get(args.id)
        except LookupError as exc:
            raise AttackCliError(str(exc)) from None
        if args.profile and args.profile not in profiles.names():
            raise AttackCliError(f"unknown profile {args.profile!r} "
                                 f"({', '.join(profiles.names())})")
        configuration = runner.Configuration(args.profile, parse_switches(args.set))
        victim_factory = None
        if args.browser:
            from attacker.browser_launch import BrowserVictimFactory

            victim_factory = BrowserVictimFactory()
        try:
            with open_target(config, profile=args.profile) as target:
                if target.started_here and not args.json:
                    console.print("(no lab running: started one with capture for this attack)",
                                  style="dim")
                saved = runner.SavedState(target.store)
                try:
                    outcome = runner.run(attack, target.config, target.store, configuration,
                                         victim_factory=victim_factory)
                finally:
                    saved.restore()
                    if victim_factory is not None:
                        victim_factory.close()
        except TargetError as exc:
            raise AttackCliError(str(exc), 1) from None
        if args.json:
            print(json.dumps(story.as_json(attack, outcome), indent=2, default=str))
        else:
            story.render(attack, outcome, console)
        return 1 if outcome.status == "error" else 0
    except AttackCliError as error:
        print(f"fapi-lab: {error.message}", file=sys.stderr)
        return error.code
