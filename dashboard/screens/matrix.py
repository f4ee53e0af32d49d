"""Matrix: every attack under every profile and each single control, measured against the catalog.

The matrix runs on private labs (temporary data, free ports), never on the workshop's running
lab, so this page needs no running lab: it shows the last results and can start a new run.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import streamlit as st

from dashboard import matrix_job, matrix_layout, matrix_view

DIRECTORY = matrix_job.results_dir()

st.title("Attack × configuration matrix")
st.caption("Each cell is a real run of the attack: *blocked* means a control refused it and "
           "its event fired; the catalog's expectation (attacks.md §3) stands beside it, and a "
           "difference without an explanation is a finding. Runs use private labs, so the "
           "workshop's lab is left as it is.")


def _start(profiles_only: bool) -> None:
    try:
        matrix_job.start(DIRECTORY, profiles_only=profiles_only,
                         attacks=matrix_job.quick_attacks() or None)
    except matrix_job.JobError as error:
        st.error(str(error))
        return
    st.rerun()


def _estimate(profiles_only: bool) -> str:
    """How long the last run measured for these columns; no claim without a measurement."""
    try:
        last = matrix_view.load(DIRECTORY)
    except matrix_view.ResultsError:
        return ""
    return matrix_layout.estimate_text(matrix_layout.estimate(
        last, profiles_only=profiles_only, attacks=matrix_job.quick_attacks() or None))


def _run_controls(job: matrix_job.JobStatus) -> None:
    left, middle, right = st.columns([2, 2, 1])
    if left.button(f"Run profile columns{_estimate(True)}", key="matrix_run_profiles",
                   disabled=job.running, width="stretch"):
        _start(profiles_only=True)
    if middle.button(f"Run full matrix{_estimate(False)}", key="matrix_run_full",
                     disabled=job.running, width="stretch"):
        _start(profiles_only=False)
    if right.button("Stop", key="matrix_stop", disabled=not job.running,
                    width="stretch"):
        matrix_job.stop(DIRECTORY)
        st.rerun()
    quick = matrix_job.quick_attacks()
    if quick:
        st.caption(f"Runs are limited to {', '.join(quick)} (${matrix_job.ATTACKS_ENV}).")
    st.caption(f"Results directory: `{DIRECTORY}` (the same as "
               f"`fapi-lab matrix --out {DIRECTORY}`).")


JOB = matrix_job.status(DIRECTORY)
_run_controls(JOB)


@st.fragment(run_every=2 if JOB.running else None)
def _progress() -> None:
    """Redrawn every 2 s while a run is under way; a full redraw when it ends."""
    now = matrix_job.status(DIRECTORY)
    if now.running:
        st.session_state["matrix_followed"] = True
        last = now.last or {}
        text = (f"{now.done} / {now.total or '?'} cells"
                + (f" — last: {last.get('attack')} under {last.get('column')}: "
                   f"{last.get('status')}" if last else " — starting private labs…"))
        st.progress(now.fraction, text=text)
        return
    if st.session_state.pop("matrix_followed", False) or JOB.running:
        st.rerun()   # it ended since the page was drawn: show the new results
    if now.state == "finished":
        st.success(f"The last run finished: {now.done} cells.")
    elif now.state == "failed":
        st.error(f"The last run failed: {now.message}")
    elif now.state == "stopped":
        st.warning("The last run was stopped; the results below are from before it.")


_progress()


def _legend() -> None:
    chips = "".join(
        f'<span style="display:inline-block;margin:2px 10px 2px 0;padding:1px 6px;'
        f'background:{colour};color:#1b1b1b;border:1px solid #999;border-radius:3px">'
        f"{label}</span> {meaning}<br>" for label, colour, meaning in matrix_view.LEGEND)
    st.html(f'<div style="font-size:0.85em;line-height:1.8">{chips}</div>')


def _grid(results: matrix_view.Results, kind: str) -> None:
    grid = matrix_view.grid(results, kind)
    if grid.labels.empty or grid.labels.columns.empty:
        st.info("These results have no single-control columns: run the full matrix for them."
                if kind == "control" else "These results have no profile columns.")
        return
    # one HTML table, not a dataframe widget: every row and column, labels wrapped whole
    st.html(matrix_layout.grid_html(results, kind))


def _names(items: list[object]) -> str:
    return ", ".join(map(str, items)) or "none"


def _evidence(results: matrix_view.Results, attack_id: str, column_id: str) -> None:
    try:
        ev = matrix_view.evidence(results, attack_id, column_id)
    except matrix_view.ResultsError as error:
        st.info(str(error))
        return
    cell = ev.cell
    st.markdown(f"#### `{attack_id}` under `{ev.column['label']}`")
    if ev.attack.get("title"):
        st.caption(f"{ev.attack['title']} — attacker {ev.attack.get('attacker', '?')}")
    expected, measured = st.columns(2)
    expected.markdown(f"**Expected (catalog):** {cell['expected_status'] or '—'}  \n"
                      f"blockers on here: {_names(cell['expected_blockers'])}")
    measured.markdown(f"**Measured:** {matrix_view.cell_label(cell, '')}  \n"
                      f"fired: {_names(cell['fired'])}")
    st.dataframe(ev.blockers, hide_index=True)
    verdict = f"**Verdict: {cell['verdict']}**" + (f" — {cell['explanation']}"
                                                    if cell["explanation"] else "")
    (st.warning if cell["verdict"] in ("mismatch", "error") else st.info)(verdict)
    if cell["summary"]:
        st.markdown(f"**Summary:** {cell['summary']}")
    for note in ev.notes:
        st.caption(note)
    if not ev.steps.empty:
        st.markdown("**Steps**")
        st.dataframe(ev.steps, hide_index=True)
    if not ev.captured.empty:
        st.markdown("**Read from the capture**")
        st.dataframe(ev.captured, hide_index=True)
    if ev.refusal is not None:
        st.markdown("**Refusal**")
        st.code(json.dumps(ev.refusal, indent=1, ensure_ascii=False), language="json")
    if not ev.events.empty:
        st.markdown("**Control events** (counted = decides the outcome)")
        st.dataframe(ev.events, hide_index=True)
    if ev.stolen:
        st.markdown("**Stolen**")
        st.code(ev.stolen)
    if cell["request_ids"] or cell["capture_ids"]:
        st.caption(f"Request ids {', '.join(map(str, cell['request_ids']))}; capture ids "
                   f"{', '.join(map(str, cell['capture_ids']))} (of the private lab, now gone).")


def _pick(key: str, options: list[str], default: str) -> None:
    """Keep a stale choice (from older results) from breaking the selectbox."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def _drill_down(results: matrix_view.Results) -> None:
    st.subheader("Drill down into a cell")
    attack_ids = [a["id"] for a in results.attacks if a["id"] in results.data["cells"]]
    column_ids = [c["id"] for c in results.columns()]
    if not attack_ids or not column_ids:
        st.info("These results have no cells.")
        return
    found = matrix_view.mismatches(results)
    first = (found.iloc[0]["attack"], found.iloc[0]["column"]) if not found.empty \
        else (attack_ids[0], column_ids[0])
    _pick("matrix_attack", attack_ids, first[0])
    _pick("matrix_column", column_ids, first[1])
    left, right = st.columns(2)
    attack_id = left.selectbox("Attack", attack_ids, key="matrix_attack",
                               format_func=lambda i: f"{i} — {results.attack(i).get('title', '')}")
    column_id = right.selectbox("Configuration", column_ids, key="matrix_column",
                                format_func=lambda i: str(results.column(i)["label"]))
    _evidence(results, str(attack_id), str(column_id))


def _results() -> None:
    try:
        results = matrix_view.load(DIRECTORY)
    except matrix_view.ResultsError as error:
        if (DIRECTORY / matrix_view.RESULTS_FILE).exists():
            st.error(str(error))
        else:
            st.info(f"{error} Run it with a button above, or in a terminal: "
                    f"`fapi-lab matrix --out {DIRECTORY}`.")
        return
    data = results.data
    when = datetime.fromtimestamp(results.modified).strftime("%Y-%m-%d %H:%M")
    st.caption(f"Results of {when}: {len(results.data['cells'])} attacks × "
               f"{len(results.columns())} columns, {data.get('runs', '?')} runs, "
               f"{data.get('inferred', '?')} inferred cells, "
               f"{(data.get('seconds') or {}).get('total', '?')} s.")
    headline = matrix_layout.headline(results)
    for column, (label, value) in zip(st.columns(len(headline)), headline, strict=True):
        column.metric(label, value)
    _legend()
    profiles, controls = st.tabs(["Profiles", "Each control alone over legacy"])
    with profiles:
        _grid(results, "profile")
    with controls:
        _grid(results, "control")
    st.subheader("Mismatches + errors")
    found = matrix_view.mismatches(results)
    if found.empty:
        st.success("Every cell agrees with the catalog or is explained.")
    else:
        st.dataframe(found, hide_index=True)
    _drill_down(results)
    _downloads(DIRECTORY)


def _downloads(directory: Path) -> None:
    report = directory / "matrix.html"
    if report.exists():
        st.download_button("Download matrix.html (offline, printable)", report.read_bytes(),
                           file_name="matrix.html", mime="text/html",
                           key="matrix_download_html")


_results()
