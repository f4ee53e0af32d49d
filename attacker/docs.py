"""Renders docs/attacks.md: the catalog's notes — every attack, its premise, its expected
blockers, and where the lab's measurement differs from attacks.md and why.

The attack modules are the source, with the controls catalog for docs/controls/*.md (their
"Attacks it blocks" comes from here too, attacker.control_pages). Run after changing either:

    python -m attacker.docs          # rewrite docs/attacks.md and docs/controls/*.md
    python -m attacker.docs --check  # exit 1 when a page is missing or stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.controls import catalog as controls_catalog
from lab.controls import profiles

from . import control_pages, lookup
from .attacks import LIMITS_ONLY, Attack, Pending

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "attacks.md"


def _controls(ids: tuple[str, ...]) -> str:
    return ", ".join(f"[`{i}`](controls/{i}.md)" if i in controls_catalog.BY_ID
                     else f"`{i}` (not built yet)" for i in ids) or "none"


def lab_blockers(attack: Attack) -> tuple[str, ...]:
    """The built controls, off in fapi2-security, that the catalog (or a measurement) names
    as blocking the attack: what a bank adds where FAPI 2.0 leaves it open."""
    strict = profiles.enabled("fapi2-security")
    return tuple(dict.fromkeys(
        c for c in (*attack.blocked_by, *attack.also_blocked_by)
        if c in controls_catalog.BY_ID and c not in strict
        and not attack.not_alone.get(c, "").startswith(LIMITS_ONLY)))


def overlays_of(controls: tuple[str, ...]) -> tuple[str, ...]:
    """The overlay profiles over fapi2-security that switch one of `controls` on."""
    return tuple(f"{profiles.OVERLAY_BASE}{suffix}" for suffix, ids in profiles.OVERLAYS.items()
                 if set(ids) & set(controls))


def _where_fapi2_does_not_block(attacks: dict[str, Attack]) -> list[str]:
    """attacks.md §3.1: what FAPI 2.0 leaves open, and the lab control that closes it."""
    lines = [
        "## Where FAPI 2.0 does not block",
        "",
        "Under `fapi2-security` these attacks succeed. The overlay in the last column switches "
        "the controls of the third column on over `fapi2-security`; "
        "`tests/attacks/test_overlays.py` runs each attack there, through the capture, and "
        "sees it refused with one of them fired (`fapi-lab matrix` measures it again, and "
        "`tests/attacks/test_catalog_runs.py` each control alone over `legacy`, except where "
        "the attack's notes below say why it needs the profile).",
        "",
        "| attack | why FAPI 2.0 does not block it | lab control that does | overlay |",
        "|---|---|---|---|",
    ]
    for attack in attacks.values():
        if attack.fapi2_blocks:
            continue
        blockers = lab_blockers(attack)
        overlays = ", ".join(f"`{o}`" for o in overlays_of(blockers)) or "—"
        lines.append(f"| `{attack.id}` | {attack.why_not} | {_controls(blockers)} | "
                     f"{overlays} |")
    return [*lines, ""]


def render() -> str:
    entries = lookup.entries()
    attacks = lookup.implemented()
    lines = [
        "# Attack catalog notes",
        "",
        "<!-- Generated from attacker/attacks/*.py by `python -m attacker.docs`; edit the "
        "attack modules, not this page. -->",
        "",
        (f"All {len(entries)} attacks of attacks.md §3 run against the lab. "
         if len(attacks) == len(entries) else
         f"{len(attacks)} of {len(entries)} attacks of attacks.md §3 run against the lab; the "
         "others are pending, each with its reason. ") + "Run one with `fapi-lab attack ID`; "
        "`fapi-lab matrix` measures them all. *Notes* explain where a measured outcome "
        "differs from the catalog on purpose: a catalog blocker that does not block alone "
        "over `legacy`, or FAPI 2.0 not stopping the attack.",
        "",
        *_where_fapi2_does_not_block(attacks),
    ]
    for entry in entries.values():
        lines.append(f"## `{entry.id}` — {entry.title}")
        lines.append("")
        if isinstance(entry, Pending):
            lines += [f"Pending: {entry.reason}. Attacker {entry.attacker}; catalog blockers "
                      f"{_controls(entry.blocked_by)}; source `{entry.source}`.", ""]
            continue
        attack = attacks[entry.id]
        needs = ", ".join(f"`{k}={v}`" for k, v in attack.needs.items()) or "—"
        lines += [
            "| | |", "|---|---|",
            f"| attacker | {attack.attacker} |",
            f"| reads | {', '.join(f'`{leg}`' for leg in attack.legs)} |",
            f"| victim | {attack.victim} |",
            f"| needs | {needs} |",
            f"| premise | {attack.premise} |",
            f"| goal | {attack.goal} |",
            f"| catalog blockers | {_controls(attack.blocked_by)} |",
            f"| FAPI 2.0 | {'blocks it' if attack.fapi2_blocks else 'does not block it: '}"
            f"{'' if attack.fapi2_blocks else attack.why_not} |",
            f"| refs | {'; '.join(attack.refs) or '—'} |",
            f"| source | `{attack.source}` |",
            "",
        ]
        if attack.not_alone or attack.also_blocked_by or attack.open_in:
            lines.append("Notes:")
            lines.append("")
            lines += [f"- `{c}` alone over `legacy` does not block it: {why}"
                      for c, why in attack.not_alone.items()]
            lines += [f"- `{c}` also blocks it, though the catalog does not name it: {why}"
                      for c, why in attack.also_blocked_by.items()]
            lines += [f"- under `{p}` it succeeds: {why}" for p, why in attack.open_in.items()]
            lines.append("")
    return "\n".join(line.replace("|  |", "| — |") for line in lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        stale = [str(control_pages.DOCS_DIR / f"{i}.md") for i in control_pages.stale()]
        if not PAGE.exists() or PAGE.read_text() != text:
            stale.append(str(PAGE))
        for path in stale:
            print(f"stale or missing: {path}: run python -m attacker.docs", file=sys.stderr)
        return 1 if stale else 0
    PAGE.write_text(text)
    pages = control_pages.write_all()
    print(f"wrote {PAGE} and {len(pages)} pages to {control_pages.DOCS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
