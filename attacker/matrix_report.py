"""matrix.json, matrix.md and a self-contained matrix.html (a coloured grid, offline)."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lab.audit import keep_report

COLOURS = {"succeeded": "#d9534f", "blocked": "#3c9d5d", "victim-failed": "#7a5ea8",
           "error": "#e0a800"}
SHORT = {"succeeded": "✗ won", "blocked": "✓ blocked", "victim-failed": "∅ victim failed",
         "error": "! error"}
TINY = {"succeeded": "✗", "blocked": "✓", "victim-failed": "∅", "error": "!"}


class OutputError(Exception):
    """The output location cannot take the three files; said before the matrix runs."""


def prepare_out(out: Path) -> None:
    """Create the output directory now, so a bad --out costs a line, not a whole run."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create --out {out}: {error.strerror or error}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into --out {out}")


def write_all(data: dict[str, Any], out: Path) -> list[Path]:
    prepare_out(out)
    texts = {"matrix.json": json.dumps(data, indent=1, ensure_ascii=False),
             "matrix.md": markdown(data), "matrix.html": page(data)}
    return [_replace(out / name, text) for name, text in texts.items()]


def _replace(path: Path, text: str) -> Path:
    """Write a new file beside `path`, then rename it over: a symlink planted at `path` is
    replaced, never written through, and a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cell_md(cell: dict[str, Any]) -> str:
    text = {"succeeded": "won", "blocked": "blocked", "victim-failed": "victim failed",
            "error": "ERROR"}[cell["status"]]
    if cell["status"] == "blocked" and cell["fired"]:
        text += " by " + ", ".join(cell["fired"][:3])
    elif cell["status"] == "victim-failed" and cell["fired"]:
        text += " (" + ", ".join(cell["fired"][:3]) + " refused FinLens)"
    marks = {"mismatch": " ⚠", "explained": " ※", "error": " ⚠"}.get(cell["verdict"], "")
    return text + marks + (" (inferred)" if cell["inferred"] else "")


def markdown(data: dict[str, Any]) -> str:
    profile_cols = [c for c in data["columns"] if c["kind"] == "profile"]
    control_cols = [c for c in data["columns"] if c["kind"] == "control"]
    lines = ["# Attack × configuration matrix", "",
             f"{len(data['attacks'])} attack(s) run, {len(data['pending'])} pending; "
             f"{data['runs']} runs, {data['inferred']} single-control cells inferred from "
             f"an unconsulted switch; {data['seconds'].get('total', 0)} s.", "",
             "Measured by running each attack against the lab. *won* = the attack reached its "
             "goal; *blocked by X* = the controls that refused the attacker's requests; "
             "*victim failed* = a switch broke the victim's own flow, so the attack never ran; "
             "⚠ = differs from the catalog (attacks.md §3); ※ = differs, explained.", "",
             "## Profiles", "",
             "| attack | catalog blockers | " + " | ".join(c["id"] for c in profile_cols) + " |",
             "|---|---|" + "---|" * len(profile_cols)]
    for attack in data["attacks"]:
        row = data["cells"].get(attack["id"], {})
        cells = [_cell_md(row[c["id"]]) if c["id"] in row else "" for c in profile_cols]
        lines.append(f"| `{attack['id']}` | {', '.join(attack['expected_blockers'])} | "
                     + " | ".join(cells) + " |")
    if control_cols:
        lines += ["", "## Each control alone over legacy", "",
                  "Only the cells where the control changes the outcome, or where the catalog "
                  "names it, are listed; every other cell is *won* as under legacy.", "",
                  "| attack | control | outcome | catalog | verdict |", "|---|---|---|---|---|"]
        for attack in data["attacks"]:
            row = data["cells"].get(attack["id"], {})
            for c in control_cols:
                cell = row.get(c["id"])
                if cell is None:
                    continue
                named = c["id"] in attack["expected_blockers"]
                if cell["status"] == "succeeded" and not named and cell["verdict"] == "agrees":
                    continue
                lines.append(f"| `{attack['id']}` | `{c['id']}` | {_cell_md(cell)} | "
                             f"{'blocks' if named else '—'} | {cell['verdict']} |")
    lines += ["", "## Differences from the catalog", ""]
    explained = [(a, c, cell) for a, row in data["cells"].items() for c, cell in row.items()
                 if cell["verdict"] == "explained"]
    if not data["mismatches"]:
        lines.append("No unexplained mismatch and no error.")
    for m in data["mismatches"]:
        lines.append(f"- ⚠ `{m['attack']}` under `{m['column']}`: {m['verdict']} — {m['detail']}")
    if explained:
        lines += ["", "Explained:", ""]
        seen: set[tuple[str, str]] = set()
        for a, c, cell in explained:
            if (a, cell["explanation"]) in seen:
                continue
            seen.add((a, cell["explanation"]))
            lines.append(f"- ※ `{a}` (`{c}`): {cell['explanation']}")
    if data["pending"]:
        lines += ["", "## Pending attacks", ""]
        lines += [f"- `{p['id']}`: {p['reason']}" for p in data["pending"]]
    if data.get("audit"):
        lines += ["", "## Audit trails", "",
                  f"Each run's trail is kept in `{data['audit']['root']}`; check it again with "
                  f"`fapi-lab audit verify --trail {data['audit']['root']}`.", ""]
        lines += [f"- {line}" for line in keep_report.lines(data["audit"])]
    return "\n".join(lines) + "\n"


def page(data: dict[str, Any]) -> str:
    """One HTML file, no scripts, no external resources: readable offline and printable."""
    cols = data["columns"]
    head = "".join(
        f'<th class="{c["kind"]}" title="{html.escape(c["label"] + " " + c["note"])}">'
        f'<div>{html.escape(c["id"])}</div></th>' for c in cols)
    rows = []
    for attack in data["attacks"]:
        row = data["cells"].get(attack["id"], {})
        tds = []
        for c in cols:
            cell = row.get(c["id"])
            if cell is None:
                tds.append("<td></td>")
                continue
            tip = (f"{attack['id']} under {c['label']}: {cell['status']}"
                   + (f" — fired {', '.join(cell['fired'])}" if cell["fired"] else "")
                   + f" — catalog: {cell['expected_status']}"
                   + (f" by {', '.join(cell['expected_blockers'])}"
                      if cell["expected_blockers"] else "")
                   + (f" — {cell['explanation']}" if cell["explanation"] else "")
                   + (" — inferred (control not consulted)" if cell["inferred"] else ""))
            mark = {"mismatch": "⚠", "explained": "※", "error": "⚠"}.get(cell["verdict"], "")
            label = SHORT[cell["status"]] if c["kind"] == "profile" else TINY[cell["status"]]
            style = f"background:{COLOURS[cell['status']]}"
            cls = "inferred" if cell["inferred"] else ""
            tds.append(f'<td class="{cls}" style="{style}" title="{html.escape(tip)}">'
                       f"{label}{mark}</td>")
        rows.append(f'<tr><th class="attack" title="{html.escape(attack["title"])}">'
                    f'{html.escape(attack["id"])}<small>{html.escape(attack["attacker"])}'
                    f"</small></th>{''.join(tds)}</tr>")
    problems = "".join(f"<li>⚠ <b>{html.escape(m['attack'])}</b> under "
                       f"<b>{html.escape(m['column'])}</b>: {html.escape(m['detail'])}</li>"
                       for m in data["mismatches"]) or "<li>none</li>"
    pending = "".join(f"<li><b>{html.escape(p['id'])}</b>: {html.escape(p['reason'])}</li>"
                      for p in data["pending"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FAPI Lab — attack matrix</title>
<style>
body {{ font: 13px system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #fff; padding: 2px 4px; text-align: center; color: #fff; }}
th {{ color: #222; background: #eee; font-weight: 600; }}
th.control div {{ writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }}
th.profile {{ background: #cfd8e3; }}
th.attack {{ text-align: left; white-space: nowrap; }}
th.attack small {{ color: #777; margin-left: .5em; font-weight: 400; }}
td.inferred {{ opacity: .55; }}
.legend span {{ display: inline-block; padding: 2px 8px; color: #fff; margin-right: .5em; }}
</style></head><body>
<h1>Attack × configuration matrix</h1>
<p>{len(data['attacks'])} attacks implemented, {len(data['pending'])} pending ·
{data['runs']} runs · {data['inferred']} inferred cells · {data['seconds'].get('total', 0)} s.
Every cell was measured by running the attack; hover a cell for its fired controls and the
catalog's expectation.</p>
<p class="legend"><span style="background:{COLOURS['succeeded']}">✗ attack won</span>
<span style="background:{COLOURS['blocked']}">✓ blocked (a control refused the attacker)</span>
<span style="background:{COLOURS['victim-failed']}">∅ victim failed (the switch broke the
victim's own flow; the attack never ran)</span>
<span style="background:{COLOURS['error']}">! error</span>
⚠ differs from the catalog · ※ differs, explained · faded: not rerun, the control was never
consulted in the legacy run</p>
<table><tr><th>attack</th>{head}</tr>
{''.join(rows)}</table>
<h2>Differences from the catalog</h2><ul>{problems}</ul>
<h2>Pending attacks</h2><ul>{pending}</ul>
</body></html>
"""
