"""Events: the live feed of control-fired events — which control refused which request, why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, events_view, shell

lab = shell.require_lab()
st.title("Events")
st.caption("Every time a control refuses (or quietly prevents) something, the lab records an "
           "event: the control, the request it refused, the OAuth error and the reason. This "
           "is how the lab knows *which* control stopped an attack — measured, not assumed.")

controls = ["(all)"] + sorted(c["id"] for c in lab.controls())
only = st.selectbox("Control", controls, key="events_control")
live = st.toggle("Live (refresh every 2 s)", value=True, key="events_live")


@st.fragment(run_every=2.0 if live else None)
def feed() -> None:
    feed_state = st.session_state.setdefault("events_feed", events_view.Feed())
    try:
        feed_state.pull(lab.events)
    except data.LabUnavailableError as error:
        st.error(f"The lab did not answer: {error}")
        return
    rows = events_view.rows(feed_state.events, control=None if only == "(all)" else only,
                            newest=events_view.SHOWN)
    st.markdown(events_view.headline(feed_state.total, rows))
    if rows:
        # st.table, not st.dataframe: its cells wrap, so the reason is read whole on a
        # projector instead of being cut off at the grid column's width.
        st.table(pd.DataFrame(rows).set_index("#"))


feed()
