"""An outcome told as a story: what leaked, what the attacker took and sent, what came back,
and which control fired — for a workshop screen (rich) and for scripts (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from .attacks import Attack
from .outcome import Outcome

STATUS_STYLE = {"succeeded": "bold red", "blocked": "bold green",
                "victim-failed": "bold magenta", "error": "bold yellow"}
STATUS_WORDS = {"succeeded": "SUCCEEDED — the attack worked",
                "blocked": "BLOCKED — a control refused the attacker's request",
                "victim-failed": "VICTIM FAILED — the switch broke the victim's own flow, so "
                                 "the attack never ran (not counted as blocked)",
                "error": "ERROR — the run could not be judged (never counted as blocked)"}
WHOSE = {"attacker": "attacker request", "lured": "victim's browser, sent as the attacker made it",
         "victim": "victim's own flow"}


def as_json(attack: Attack, outcome: Outcome) -> dict[str, Any]:
    data = outcome.as_dict()
    data.update({"title": attack.title, "attacker": attack.attacker, "legs": list(attack.legs),
                 "victim": attack.victim, "premise": attack.premise, "goal": attack.goal,
                 "expected_blockers": list(attack.blocked_by),
                 "fapi2_blocks": attack.fapi2_blocks, "refs": list(attack.refs)})
    return data


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                          default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def render(attack: Attack, outcome: Outcome, console: Console) -> None:
    console.print(Text(f"{attack.id} — {attack.title}", style="bold"))
    console.print(f"attacker {attack.attacker}; reads {', '.join(attack.legs)}; "
                  f"victim {attack.victim}")
    console.print(f"premise: {attack.premise}")
    console.print(f"goal: {attack.goal}")
    console.print(f"configuration: {outcome.configuration.get('label')}")
    console.print()
    for step in outcome.steps:
        line = Text(f"  {step.actor:8} ", style={"attacker": "red", "victim": "cyan",
                                                  "lab": "magenta"}.get(step.actor, ""))
        line.append(step.text)
        if step.method and step.url:
            line.append(f"\n           {step.method} {step.url}", style="dim")
        if step.status is not None:
            line.append(f"  → {step.status}", style="bold")
            if step.error:
                line.append(f" {step.error}", style="bold")
        if step.request_id:
            line.append(f"  [{step.request_id}]", style="dim")
        console.print(line)
    if outcome.captured:
        console.print("\n  read from the capture:")
        for c in outcome.captured:
            console.print(f"    #{c['capture_id']} {c['leg']}: {c['method']} {c['url']} → "
                          f"{c['status']}", style="dim")
    fired = [e for e in outcome.events if e.counted]
    incidental = [e for e in outcome.events if not e.counted]
    if fired:
        console.print("\n  controls that fired (each on one of this run's own requests):")
        for e in fired:
            console.print(f"    {e.control} ({e.kind}) at {e.endpoint}: {e.error or ''} — "
                          f"{e.reason}  [{WHOSE.get(e.by, e.by)} {e.request_id}]",
                          markup=False)   # the brackets are text, not rich markup
    if incidental:
        console.print(f"  ({len(incidental)} incidental event(s) not counted: "
                      f"{', '.join(sorted({e.control for e in incidental}))})", style="dim")
    body = Text(STATUS_WORDS[outcome.status] + "\n", style=STATUS_STYLE[outcome.status])
    body.append(outcome.summary)
    if outcome.status == "succeeded" and outcome.stolen is not None:
        body.append(f"\nstolen: {_short(outcome.stolen)}")
    if outcome.refusal:
        body.append(f"\nrefusal: {outcome.refusal.get('status')} "
                    f"{_short(outcome.refusal.get('body') or '', 200)}")
    body.append(f"\ncatalog blockers: {', '.join(attack.blocked_by) or 'none'}"
                f"; fired on the attacker's requests: "
                f"{', '.join(outcome.fired_controls) or 'none'}")
    if outcome.victim_fired:
        body.append(f"\nfired on the victim's own flow: {', '.join(outcome.victim_fired)}")
    if not attack.fapi2_blocks:
        body.append(f"\nFAPI 2.0 does not block this: {attack.why_not}")
    console.print(Panel(body, expand=False))
