"""`fapi-lab scenario`: list, check and run the workshop's scenario files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from attacker import runner, scenario_run, scenarios
from attacker.target import TargetError, open_target
from lab import clock
from lab.config import LabConfig

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "scenarios"


def register(add: Any) -> None:
    cmd = add("scenario", "workshop scenarios: `list`, `check FILE...`, `run FILE...`")
    cmd.add_argument("action", choices=("list", "check", "run"))
    cmd.add_argument("files", nargs="*", type=Path,
                     help="scenario files (default for list/check: every file in scenarios/)")
    cmd.add_argument("--json", action="store_true")


def _files(args: argparse.Namespace) -> list[Path]:
    if args.files:
        return list(args.files)
    return sorted(DEFAULT_DIR.glob("*.yaml"))


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    files = _files(args)
    if args.action == "run" and not args.files:
        console.print("fapi-lab: name the scenario file(s) to run, e.g. "
                      "`fapi-lab scenario run scenarios/01-*.yaml`")
        return 2
    try:
        loaded = [scenarios.load(p) for p in files]
    except scenarios.ScenarioError as exc:
        console.print(f"fapi-lab: {exc}", markup=False)
        return 2
    if args.action in ("list", "check"):
        for s in sorted(loaded, key=lambda s: (s.order, s.path.name)):
            console.print(f"{s.path.name:45} {s.title}  ({len(s.steps)} steps)", markup=False)
        if args.action == "check":
            console.print(f"{len(loaded)} scenario file(s) valid")
        return 0
    results = []
    try:
        with open_target(config) as target:
            saved = runner.SavedState(target.store)
            offset = clock.offset(target.store)
            if offset:
                console.print(f"note: each attack runs on wall time; the lab clock's offset "
                              f"({offset:+.0f} s, `fapi-lab clock`) is put back afterwards",
                              markup=False)
            try:
                for scenario in loaded:
                    console.print(f"\n[bold]{scenario.title}[/bold]  ({scenario.path.name})")
                    console.print(scenario.story.strip(), markup=False, style="dim")

                    def _show(step: scenario_run.StepResult) -> None:
                        mark = "[green]✓[/green]" if step.passed else "[red]✗[/red]"
                        fired = ", ".join(step.outcome.fired_controls) or "none"
                        console.print(f"  {mark} {step.step.attack} under {step.configuration}: "
                                      f"{step.outcome.status} (fired: {fired})")
                        if not step.passed:
                            console.print(f"      {step.why}", markup=False)

                    results.append(scenario_run.run(scenario, target.config, target.store,
                                                    on_step=_show))
            finally:
                saved.restore()
    except TargetError as exc:
        console.print(f"fapi-lab: {exc}", markup=False)
        return 1
    if args.json:
        print(json.dumps([{"file": str(r.scenario.path), "passed": r.passed,
                           "steps": [{"attack": s.step.attack, "expect": s.step.expect,
                                      "status": s.outcome.status,
                                      "fired": s.outcome.fired_controls, "passed": s.passed,
                                      "why": s.why} for s in r.steps]} for r in results],
                         indent=2))
    failed = [r for r in results if not r.passed]
    console.print(f"\n{len(results) - len(failed)} of {len(results)} scenario(s) passed")
    return 1 if failed else 0
