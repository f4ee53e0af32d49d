"""Renders each control's catalog entry to docs/controls/<id>.md (style.md §1: the docs place).

The catalog is the single source; the pages are generated so they never drift
from it. After changing lab/controls/catalog.py or profiles.py, run

    python -m lab.controls.docs          # rewrite docs/controls/*.md
    python -m lab.controls.docs --check  # exit 1 when a page is missing or stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import attack_catalog, catalog, profiles
from .model import Control

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS_DIR = ROOT / "docs" / "controls"
MARK_WORDS = {"✔": "on: required by the profile's source",
              "◐": "on: lab baseline, where the source recommends it or leaves it open",
              "alt": "on when the TPP setting selects it: the other option of a one-of"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ids(ids: tuple[str, ...]) -> str:
    """Links to the pages of built controls; later controls of the catalog as plain names."""
    return ", ".join(f"[`{i}`]({i}.md)" if i in catalog.BY_ID else f"`{i}` (not built yet)"
                     for i in ids) or "—"


def render(control: Control) -> str:
    """The page for one control, Markdown, deterministic (so --check can compare)."""
    c = control
    required_by = tuple(o.id for o in catalog.CONTROLS if c.id in o.requires)
    rows = [
        ("checks", c.checks),
        ("kind", c.kind),
        ("enforced at", " + ".join(c.enforced_at)),
        ("refusal", str(c.refusal)),
        ("spec", c.spec),
        ("requires", _ids(c.requires)),
        ("required by", _ids(required_by)),
        ("fires via", _ids(c.fires_via)),
        ("discovery metadata", ", ".join(f"`{m}`" for m in c.metadata) or "—"),
        ("parameters", ", ".join(f"`{k}` = `{v!r}`" for k, v in c.params.items()) or "—"),
    ]
    lines = [
        f"# `{c.id}` — {c.title}",
        "",
        "<!-- Generated from lab/controls/catalog.py by `python -m lab.controls.docs`; "
        "edit the catalog, not this page. -->",
        "",
        "| | |",
        "|---|---|",
        *(f"| {label} | {_cell(value)} |" for label, value in rows),
        "",
        "## Why",
        "",
        c.teaching,
        "",
        "## When it is off",
        "",
        c.off_behaviour or "—",
        "",
        "## Profiles",
        "",
        "| profile | mark |",
        "|---|---|",
    ]
    for name in profiles.names():
        mark = profiles.marks(name).get(c.id)
        words = f"{mark} {MARK_WORDS.get(mark, '')}".strip() if mark else "– off"
        lines.append(f"| `{name}` | {words} |")
    where = f'`guard("{c.id}")` under `lab/` ({" + ".join(c.enforced_at)})'
    if c.kind == "enabler":
        where += "; an enabler: it refuses nothing itself"
    if c.fires_via:
        where += f"; its refusals are recorded by {_ids(c.fires_via)}"
    lines += [
        "",
        "## Where to find it",
        "",
        "| | |",
        "|---|---|",
        "| definition | `lab/controls/catalog.py` |",
        f"| enforcement point | {where} |",
        f"| tests | `tests/controls/test_{c.id}.py` |",
        f"| at run time | `fapi-lab controls show {c.id}`, "
        f"`fapi-lab controls set {c.id}=on` / `=off` |",
        "",
    ]
    lines += _attacks_section(c) + _see_it_section(c)
    return "\n".join(lines)


def _attacks_section(c: Control) -> list[str]:
    expected = attack_catalog.blocked_by(c.id)
    lines = ["## Attacks it blocks", ""]
    if not expected:
        lines.append("None on its own in the attack catalog (../shared/attacks.md §3)"
                     + ("; it enables the checks that do." if c.kind == "enabler" else "."))
    for attack in expected:
        others = [b for b in attack.blocked_by if b != c.id]
        also = f" (also blocked by {_ids(tuple(others))})" if others else ""
        lines.append(f"- `{attack.id}`: {_cell(attack.title)}, attacker {attack.attacker}{also}")
    lines += ["", "Expected by the catalog; the attack matrix measures it from fired events.", ""]
    return lines


def _see_it_section(c: Control) -> list[str]:
    lines = ["## See it in the lab", "",
             f"1. `fapi-lab controls set {c.id}=off`, then repeat the weak request of "
             f"`tests/controls/test_{c.id}.py`: it goes through."
             + (f" {_cell(c.off_behaviour)}" if c.off_behaviour else ""),
             f"2. `fapi-lab controls set {c.id}=on` and send the same request again."]
    if c.kind == "enabler":
        lines.append(f"   Nothing is refused by `{c.id}` itself; watch what it adds "
                     "(discovery metadata, response parameters) and the control that uses it.")
    elif c.kind == "preventive":
        lines.append(f"   The attack surface is gone: `fapi-lab events --control {c.id}` "
                     "shows a `prevented` event.")
    else:
        target = _ids(c.fires_via) if c.fires_via else f"`{c.id}`"
        lines.append(f"   It is refused ({_cell(str(c.refusal))}); `fapi-lab events` shows the "
                     f"control-fired event of {target} with the response's `X-Lab-Request-Id`.")
    lines += ["3. Both ways, as a test: "
              f"`./fapi-lab test tests/controls/test_{c.id}.py -v`.", ""]
    return lines


def stale(out_dir: Path = DOCS_DIR) -> list[str]:
    """Ids whose page is missing or differs from what the catalog renders."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.controls.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report missing/stale pages")
    parser.add_argument("--out", type=Path, default=DOCS_DIR)
    args = parser.parse_args(argv)
    if args.check:
        ids = stale(args.out)
        for control_id in ids:
            print(f"stale or missing: {args.out / (control_id + '.md')}", file=sys.stderr)
        return 1 if ids else 0
    paths = write_all(args.out)
    print(f"wrote {len(paths)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
