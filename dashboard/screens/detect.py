"""Detection: did token_usage_monitoring catch the token-theft attacks under honest load, and
what did it cost the honest customers? The last `fapi-lab detect` run, charted for a room."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from dashboard import data, detect_view

st.title("Token theft detection")
st.caption("`fapi-lab detect` runs honest Locust traffic (customers linking FinLens, FinLens "
           "refreshing its tokens) with **token_usage_monitoring** on, and the catalog's "
           "token-theft attacks through the capture meanwhile. Detected = monitoring revoked "
           "the stolen token family and refused the attacker's own request.")
# Projected: the tiles' figures and the table's text as large as the charts'.
st.html("<style>[data-testid=stMetricValue] {font-size: 3rem;} "
        "[data-testid=stTable] td, [data-testid=stTable] th {font-size: 1.2rem;}</style>")

default = str(data.lab_config().data_dir / detect_view.RESULTS.parent)
folder = st.text_input("Results folder", value=default, key="detect_dir")
try:
    results = detect_view.load(Path(folder).expanduser())
except detect_view.NoResultsError as error:
    st.info(str(error))
    st.code("./fapi-lab detect            # about a minute; saved for this page", language="bash")
    st.stop()

raw = results.raw
when = datetime.fromtimestamp(raw["finished"]).strftime("%Y-%m-%d %H:%M") \
    if isinstance(raw.get("finished"), int | float) else "?"
st.markdown(f"Run of {when}: profile `{raw.get('profile', '?')}` + `{raw.get('control', '?')}`, "
            f"{raw.get('users', '?')} honest users, {raw.get('duration', '?')} s; parameters "
            f"`{raw.get('params', {})}`.")
benign = results.benign
rate = results.false_alarm_rate()
tiles = [("attacks detected", f"{results.detected()} of {len(results.attacks)}"),
         ("false-alarm rate", "n/a" if rate is None else f"{rate:.2%}"),
         ("honest bank requests", f"{benign.get('bank_requests', 0):,}"),
         ("honest families revoked", str(benign.get("revoked_families", "?")))]
for column, (label, value) in zip(st.columns(4), tiles, strict=True):
    column.metric(label, value)
if rate is not None and rate >= detect_view.TARGET:
    st.error(f"False alarms at {rate:.2%} of honest requests: above the 1 % target.")
# theme=None: the chart's own large fonts, not the theme's; heights given, as Streamlit does
# not take them from the chart (its layout then overlaps the next element)
st.altair_chart(detect_view.attacks_chart(results), width="stretch", theme=None,
                height=detect_view.height(results))
st.altair_chart(detect_view.false_alarm_chart(results), width="stretch", theme=None,
                height=detect_view.FALSE_HEIGHT)
st.table([{"attack": r["attack"], "outcome": r["outcome"],
           "requests to revoke": r["requests to revoke"] or "—",
           "seconds to revoke": "—" if r["seconds to revoke"] is None
           else f"{r['seconds to revoke']:.2f}",
           "attacker requests": r["attacker requests"], "alerts": r["alerts"]}
          for r in results.rows()])
st.caption(f"Honest side: {benign.get('families', '?')} token families, "
           f"{benign.get('linkings', '?')} linkings, {benign.get('refreshes', '?')} refreshes; "
           f"{benign.get('alerts', '?')} alerts on {benign.get('alerted_families', '?')} "
           f"families. Read from {results.path}.")
