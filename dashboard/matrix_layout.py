"""The matrix page's layout pieces that must agree with each other: the tiles count the rows of
the table below them, the grid shows every row and column whole, and a run's time is claimed
only from what the last run measured."""

from __future__ import annotations

import html
import math

from .matrix_view import Results, counts, grid, mismatches

GRID_CSS = """<style>
.matrix-grid { overflow-x: auto; }
.matrix-grid table { border-collapse: collapse; font-size: 0.8em; }
.matrix-grid th, .matrix-grid td { border: 1px solid #bbb; padding: 2px 5px;
  white-space: normal; overflow-wrap: anywhere; min-width: 5.5em; vertical-align: top; }
.matrix-grid th { background: #eee; color: #1b1b1b; text-align: left; }
</style>"""


def grid_html(results: Results, kind: str) -> str:
    """The grid as one HTML table: every row and column, whole labels wrapped in their cells
    (a dataframe widget clips long labels and shows only the rows its height allows)."""
    table = grid(results, kind)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.labels.columns)
    rows = []
    for attack_id in table.labels.index:
        cells = "".join(
            f'<td style="{html.escape(str(table.css.at[attack_id, c]))}">'
            f"{html.escape(str(table.labels.at[attack_id, c]))}</td>"
            for c in table.labels.columns)
        rows.append(f"<tr><th>{html.escape(str(attack_id))}</th>{cells}</tr>")
    return (f'{GRID_CSS}<div class="matrix-grid"><table><tr><th>attack</th>{head}</tr>'
            f"{''.join(rows)}</table></div>")


def headline(results: Results) -> list[tuple[str, int]]:
    """The page's tiles; the findings tile counts exactly the rows of the table below it."""
    found = counts(results)
    return [("blocked", found.get("blocked", 0)), ("succeeded", found.get("succeeded", 0)),
            ("victim failed", found.get("victim-failed", 0)),
            ("mismatches + errors", len(mismatches(results)))]


def estimate(results: Results, *, profiles_only: bool,
             attacks: list[str] | None = None) -> float | None:
    """Seconds a new run should take, from these results' measured per-cell times (scaled by
    that run's lab start-up overhead); None when they did not measure those columns."""
    kind_ids = {c["id"] for c in results.columns("profile" if profiles_only else None)}
    if not profiles_only and not results.columns("control"):
        return None
    total = (results.data.get("seconds") or {}).get("total")
    every, wanted = 0.0, 0.0
    for attack_id, row in results.data["cells"].items():
        for column_id, cell in row.items():
            seconds = cell.get("seconds")
            if cell["inferred"] or not isinstance(seconds, (int, float)):
                continue
            every += seconds
            if column_id in kind_ids and (attacks is None or attack_id in attacks):
                wanted += seconds
    if wanted <= 0:
        return None
    overhead = total / every if isinstance(total, (int, float)) and total > every else 1.0
    return wanted * overhead


def estimate_text(seconds: float | None) -> str:
    """' (≈ 3 min, measured on the last run)', or nothing rather than a guess."""
    if seconds is None:
        return ""
    return f" (≈ {max(1, math.ceil(seconds / 60))} min, measured on the last run)"
