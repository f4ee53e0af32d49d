"""Audit trail: the lab's hash-chained record of what happened, and where it breaks."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import audit_view, data, shell

lab = shell.require_lab()
st.title("Audit trail")
st.caption("Every sign-in, consent, token, revocation, payment, switch change and refusal is a "
           "record. With **audit_chain** on, each carries the hash of the one before it, and "
           "signed checkpoints are kept outside the database: an edited, deleted or cut-off "
           "record shows, here and in `fapi-lab audit verify`.")
# Projected: the table's text as large as the page's, and the break in strong colours.
st.html("<style>[data-testid=stTable] td, [data-testid=stTable] th "
        "{font-size: 1.05rem;}</style>")

shown = st.session_state.get("audit_limit", 50)
try:
    payload = lab.audit(limit=shown)
except data.LabUnavailableError as error:
    shell.show_unavailable(error)
    st.stop()

report = payload["verify"]
verdict = audit_view.verdict(payload)
getattr(st, verdict.tone)(verdict.headline)
for detail in verdict.details:
    st.markdown(detail)
for column, (label, value) in zip(st.columns(4), audit_view.metrics(payload), strict=True):
    column.metric(label, value)


def _colour(row: pd.Series) -> list[str]:
    link = str(row["link"])
    if link.startswith("✗"):
        style = "background-color: #b00020; color: white; font-weight: bold"
    elif link == audit_view.AFTER:
        style = "color: #777"
    else:
        style = ""
    return [style] * len(row)


def table(records: list[dict[str, Any]]) -> None:
    rows = audit_view.rows(records, report)
    if not rows:
        st.info("No records yet.")
        return
    # st.table, not st.dataframe: cells wrap, so a record is read whole on a projector.
    # The record number a column of its own: a styled table shows no index.
    frame = pd.DataFrame(rows).rename(columns={"#": "record"}).astype({"record": str})
    st.table(frame.style.apply(_colour, axis=1))


if payload["around"] or (not report["ok"] and report.get("first_bad") is not None):
    st.subheader(f"Where it breaks: record #{report['first_bad']}")
    table(payload["around"])
st.subheader("Newest records")
pick, again = st.columns([1, 3], vertical_alignment="bottom")
pick.selectbox("Shown", [20, 50, 200], index=1, key="audit_limit")
again.button("Verify again", key="audit_verify")
table(payload["records"])
