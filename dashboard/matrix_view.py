"""The matrix page's logic: read a results directory, lay out its two grids, tell one cell's story.

`fapi-lab matrix` writes matrix.json (attacker/matrix.py `Matrix.as_dict`); this module turns
it into what the page shows, so the page only lays out. Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

RESULTS_FILE = "matrix.json"
STATUSES = ("succeeded", "blocked", "victim-failed", "error")

# measured status → background (text stays dark, readable in either theme); inferred is paler
COLOURS = {"blocked": "#b9e4c4", "succeeded": "#f6c1bb", "victim-failed": "#d9cdf0",
           "error": "#ffe08a"}
INFERRED_COLOURS = {"blocked": "#e3f4e7", "succeeded": "#fbe4e1", "victim-failed": "#eee8f8",
                    "error": "#fff3c9"}
MISMATCH_STYLE = "color: #8a0000; font-weight: 700; border: 2px solid #8a0000"
LABELS = {"blocked": "✔ blocked", "succeeded": "✘ succeeded",
          "victim-failed": "∅ victim failed", "error": "! error"}
LEGEND = (
    ("✔ blocked · X", COLOURS["blocked"], "a control refused the attacker's own request; X = "
                                          "the controls whose events fired"),
    ("✘ succeeded", COLOURS["succeeded"], "the attack reached its goal"),
    ("∅ victim failed · X", COLOURS["victim-failed"],
     "X refused the victim's own flow (FinLens, as configured), so the attack never ran: "
     "not blocked"),
    ("! error", COLOURS["error"], "the run could not be judged (never counted as blocked)"),
    ("… · inferred", INFERRED_COLOURS["succeeded"],
     "not rerun: the legacy run never consulted this control, so its outcome is legacy's"),
    ("⚠ …", "#ffffff", "differs from the catalog (attacks.md §3) without an explanation"),
    ("… ※", "#ffffff", "differs from the catalog, explained"),
)


class ResultsError(Exception):
    """No usable matrix.json: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Results:
    """One matrix.json, checked enough that the grids and the drill-down cannot trip on it."""

    path: Path
    data: dict[str, Any]
    modified: float

    @property
    def attacks(self) -> list[dict[str, Any]]:
        return list(self.data["attacks"])

    def columns(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.data["columns"] if kind is None or c["kind"] == kind]

    def cell(self, attack_id: str, column_id: str) -> dict[str, Any] | None:
        cell = self.data["cells"].get(attack_id, {}).get(column_id)
        return dict(cell) if cell is not None else None

    def attack(self, attack_id: str) -> dict[str, Any]:
        return next((a for a in self.attacks if a["id"] == attack_id), {"id": attack_id})

    def column(self, column_id: str) -> dict[str, Any]:
        return next((c for c in self.columns() if c["id"] == column_id),
                    {"id": column_id, "kind": "profile", "label": column_id, "note": ""})

    @property
    def has_evidence(self) -> bool:
        return any("evidence" in cell for row in self.data["cells"].values()
                   for cell in row.values())


def load(directory: Path) -> Results:
    """The results in `directory`, or ResultsError saying what is missing or broken."""
    path = Path(directory) / RESULTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
        modified = path.stat().st_mtime
    except FileNotFoundError:
        raise ResultsError(f"No matrix results in {directory} yet.") from None
    except OSError as error:
        raise ResultsError(f"{path} cannot be read: {error.strerror or error}.") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ResultsError(f"{path} is not valid JSON ({error}); run the matrix again.") \
            from None
    problem = _shape_problem(data)
    if problem:
        raise ResultsError(f"{path} is not a matrix.json from `fapi-lab matrix`: {problem}; "
                           f"run the matrix again.")
    return Results(path, data, modified)


def _shape_problem(data: Any) -> str:
    if not isinstance(data, dict):
        return "not a JSON object"
    for key, kind in (("columns", list), ("attacks", list), ("cells", dict)):
        if not isinstance(data.get(key), kind):
            return f"no {key!r} {kind.__name__}"
    for column in data["columns"]:
        if not (isinstance(column, dict) and isinstance(column.get("id"), str)
                and column.get("kind") in ("profile", "control")):
            return "a column without an id and kind"
        column["label"] = str(column.get("label") or column["id"])
        column["note"] = str(column.get("note") or "")
    for attack in data["attacks"]:
        if not (isinstance(attack, dict) and isinstance(attack.get("id"), str)):
            return "an attack without an id"
        if not isinstance(attack.get("expected_blockers", []), list):
            return f"{attack['id']}: expected_blockers is not a list"
    for key in ("columns", "attacks"):
        ids = [item["id"] for item in data[key]]
        if len(set(ids)) != len(ids):
            return f"an id appears twice in {key!r}"
    for attack_id, row in data["cells"].items():
        if not isinstance(row, dict):
            return f"the cells of {attack_id} are not an object"
        for column_id, cell in row.items():
            if not (isinstance(cell, dict) and cell.get("status") in STATUSES):
                return f"cell {attack_id} / {column_id} has no known status"
            for key in ("fired", "expected_blockers", "request_ids", "capture_ids"):
                if not isinstance(cell.setdefault(key, []), list):
                    return f"cell {attack_id} / {column_id}: {key} is not a list"
            if cell.get("evidence") is not None and not isinstance(cell["evidence"], dict):
                return f"cell {attack_id} / {column_id}: evidence is not an object"
            for key in ("expected_status", "verdict", "explanation", "summary"):
                cell[key] = str(cell.get(key) or "")
            cell["inferred"] = bool(cell.get("inferred"))
    return ""


# --- the grids -----------------------------------------------------------------------------

def cell_label(cell: dict[str, Any], column_id: str) -> str:
    """'✔ blocked · dpop_bound_tokens', '✘ succeeded', '⚠ ✘ succeeded', '… · inferred'."""
    status = cell["status"]
    text = LABELS[status]
    # in a single-control column the control itself is the one expected to fire: name others
    fired = [str(c) for c in cell["fired"] if c != column_id or status == "victim-failed"]
    if status in ("blocked", "victim-failed") and fired:
        text += " · " + ", ".join(fired)
    if cell["verdict"] in ("mismatch", "error"):
        expected = cell["expected_status"]
        text = "⚠ " + text + (f" (catalog: {expected})" if expected and expected != status
                              else "")
    elif cell["verdict"] == "explained":
        text += " ※"
    if cell["inferred"]:
        text += " · inferred"
    return text


def cell_css(cell: dict[str, Any]) -> str:
    colours = INFERRED_COLOURS if cell["inferred"] else COLOURS
    css = f"background-color: {colours[cell['status']]}; color: #1b1b1b"
    if cell["verdict"] in ("mismatch", "error"):
        css += "; " + MISMATCH_STYLE
    return css


@dataclass(frozen=True)
class Grid:
    """Short labels and their CSS, same shape: attacks down, columns across."""

    labels: pd.DataFrame
    css: pd.DataFrame

    def styled(self) -> Styler:
        return self.labels.style.apply(lambda _: self.css, axis=None)


def grid(results: Results, kind: str) -> Grid:
    """kind "profile": attacks × profiles; kind "control": attacks × single controls."""
    column_ids = [c["id"] for c in results.columns(kind)]
    attack_ids = [a["id"] for a in results.attacks if a["id"] in results.data["cells"]]
    labels: list[list[str]] = []
    css: list[list[str]] = []
    for attack_id in attack_ids:
        row_labels, row_css = [], []
        for column_id in column_ids:
            cell = results.cell(attack_id, column_id)
            row_labels.append(cell_label(cell, column_id) if cell else "")
            row_css.append(cell_css(cell) if cell else "")
        labels.append(row_labels)
        css.append(row_css)
    index = pd.Index(attack_ids, name="attack")
    return Grid(pd.DataFrame(labels, index=index, columns=column_ids, dtype=object),
                pd.DataFrame(css, index=index, columns=column_ids, dtype=object))


def mismatches(results: Results) -> pd.DataFrame:
    """Cells that differ from the catalog without an explanation, and errors: the findings."""
    rows = [{"attack": attack_id, "column": column_id, "verdict": cell["verdict"],
             "measured": cell["status"], "expected": cell["expected_status"],
             "detail": cell["explanation"]}
            for attack_id, row in results.data["cells"].items()
            for column_id, cell in row.items() if cell["verdict"] in ("mismatch", "error")]
    return pd.DataFrame(rows, columns=["attack", "column", "verdict", "measured", "expected",
                                       "detail"])


def counts(results: Results) -> dict[str, int]:
    """How many cells measured each status and each verdict (the page's headline numbers)."""
    found: dict[str, int] = {}
    for row in results.data["cells"].values():
        for cell in row.values():
            # an error's verdict is "error" too: count it once
            for key in {cell["status"], cell["verdict"]}:
                found[key] = found.get(key, 0) + 1
    return found


# --- one cell's evidence --------------------------------------------------------------------

@dataclass
class Evidence:
    """What the drill-down shows for one cell: expected against measured, and the run's story."""

    attack: dict[str, Any]
    column: dict[str, Any]
    cell: dict[str, Any]
    blockers: pd.DataFrame
    steps: pd.DataFrame
    events: pd.DataFrame
    captured: pd.DataFrame
    refusal: dict[str, Any] | None = None
    stolen: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_story(self) -> bool:
        return not self.steps.empty or not self.events.empty or self.refusal is not None


STEP_COLUMNS = ["actor", "text", "method", "url", "status", "error"]
EVENT_COLUMNS = ["control", "kind", "counted", "error", "reason", "endpoint"]
CAPTURE_COLUMNS = ["capture_id", "leg", "method", "url", "status"]


def evidence(results: Results, attack_id: str, column_id: str) -> Evidence:
    """One cell's evidence; an inferred cell shows its legacy run's, and says so."""
    cell = results.cell(attack_id, column_id)
    if cell is None:
        raise ResultsError(f"No cell for {attack_id} under {column_id} in these results.")
    attack, column = results.attack(attack_id), results.column(column_id)
    notes: list[str] = []
    story = cell.get("evidence")
    if cell["inferred"]:
        legacy = results.cell(attack_id, "legacy")
        story = legacy.get("evidence") if legacy else None
        why = cell["summary"] or "not rerun: the legacy run never consulted this control"
        notes.append(f"Inferred — {why}. The story below is the legacy run's.")
    if not isinstance(story, dict):
        story = {}
        if not results.has_evidence:
            notes.append("These results were written before `fapi-lab matrix` kept each run's "
                         "evidence; run the matrix again to see steps, refusal and events.")
        else:
            notes.append("No evidence was recorded for this cell.")
    steps_total = story.get("steps_total")
    steps = _table(story.get("steps"), STEP_COLUMNS)
    if isinstance(steps_total, int) and steps_total > len(steps):
        notes.append(f"The first {len(steps)} of {steps_total} steps are kept.")
    refusal = story.get("refusal")
    stolen = story.get("stolen")
    return Evidence(attack, column, cell, blockers(attack, cell), steps,
                    _table(story.get("events"), EVENT_COLUMNS),
                    _table(story.get("captured"), CAPTURE_COLUMNS),
                    refusal if isinstance(refusal, dict) else None,
                    None if stolen is None else str(stolen), notes)


def blockers(attack: dict[str, Any], cell: dict[str, Any]) -> pd.DataFrame:
    """Expected and measured blockers side by side, one row per control either side names."""
    catalog = [str(c) for c in attack.get("expected_blockers", [])]
    expected = [str(c) for c in cell["expected_blockers"]]
    fired = [str(c) for c in cell["fired"]]
    rows = []
    for control in dict.fromkeys(expected + fired + catalog):
        rows.append({
            "control": control,
            "expected to block here": "yes" if control in expected else
            "catalog blocker, off here" if control in catalog else "—",
            "fired in the run": "yes" if control in fired else "—",
        })
    return pd.DataFrame(rows, columns=["control", "expected to block here", "fired in the run"])


def _table(rows: Any, columns: list[str]) -> pd.DataFrame:
    kept = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in kept], columns=columns,
                         dtype=object)
    if frame.empty:
        return frame
    frame = frame.dropna(axis=1, how="all")     # e.g. no step had an error
    return frame.map(_shown)                    # one type per column, as Arrow wants


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
