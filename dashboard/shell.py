"""What every page shares: the lab it talks to, and a readable stop when there is none."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import data

# Not `pages/`: next to app.py Streamlit would take that folder for its older multipage
# layout and serve each file on its own, without app.py's navigation.
PAGES = Path(__file__).resolve().parent / "screens"


def require_lab() -> data.Lab:
    """The running lab, or a page that says how to start one (and nothing else)."""
    try:
        return data.connect()
    except data.LabUnavailableError as error:
        st.error(f"No running lab to show: {error}")
        st.markdown("Start one in a terminal with `./fapi-lab up` (it starts this dashboard "
                    "too), then reload this page.")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers sure `lab` is bound


def show_unavailable(error: data.LabUnavailableError) -> None:
    """A lab call failed mid-page (the lab stopped?): say so instead of a traceback."""
    st.error(f"The lab did not answer: {error}. Is `fapi-lab up` still running?")
    st.stop()
