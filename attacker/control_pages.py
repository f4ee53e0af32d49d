"""Writes docs/controls/<id>.md: the lab's page for a control plus the attacks it blocks.

The lab renders a control's page (lab.controls.docs) but never reads the attacks; this side
may read both, so it adds "Attacks it blocks" from the attack modules' `blocked_by` and
writes the pages. `python -m attacker.docs` runs it (and `--check` compares).
"""

from __future__ import annotations

from pathlib import Path

from lab.controls import catalog, spine
from lab.controls import docs as control_docs
from lab.controls.model import Control

from . import lookup

DOCS_DIR = spine.ROOT / "docs" / "controls"


def attacks_section(control: Control) -> list[str]:
    """"Attacks it blocks": every catalog attack naming the control in its `blocked_by`."""
    expected = lookup.blocked_by(control.id)
    lines = ["## Attacks it blocks", ""]
    if not expected:
        lines.append("None on its own in the attack catalog (../shared/attacks.md §3)"
                     + ("; it enables the checks that do." if control.kind == "enabler" else "."))
    for attack in expected:
        others = tuple(b for b in attack.blocked_by if b != control.id)
        also = f" (also blocked by {control_docs.control_links(others)})" if others else ""
        pending = " — pending, not run yet" if attack.state == "pending" else ""
        lines.append(f"- `{attack.id}`: "
                     f"{control_docs.cell(attack.title)}, attacker {attack.attacker}{also}"
                     f"{pending}")
    lines += ["", "Expected by each attack's `blocked_by` (attacker/attacks/); the attack "
              "matrix measures it from fired events.", ""]
    return lines


def render(control: Control) -> str:
    return control_docs.render(control, attacks_section(control))


def stale(out_dir: Path = DOCS_DIR) -> list[str]:
    """Ids whose page is missing or differs from what the catalog and the attacks render."""
    result = []
    for control in catalog.CONTROLS:
        path = out_dir / f"{control.id}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != render(control):
            result.append(control.id)
    return result


def write_all(out_dir: Path = DOCS_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for control in catalog.CONTROLS:
        path = out_dir / f"{control.id}.md"
        path.write_text(render(control), encoding="utf-8")
        written.append(path)
    return written
