"""What every page shares: the lab it talks to, and a readable stop when there is none."""

from __future__ import annotations

import streamlit as st

from . import data


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
