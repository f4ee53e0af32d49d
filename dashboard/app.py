"""FAPI Lab's workshop screen: `streamlit run dashboard/app.py` (started by `fapi-lab up`).

One page per screen of the design brief; each page lives in `dashboard/screens/` and reads
the running lab through `dashboard.data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the lab's packages sit beside it.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data  # noqa: E402
from dashboard.shell import PAGES  # noqa: E402

ICON = Path(__file__).resolve().parent / "icon.svg"


def sidebar_status() -> None:
    """Which lab this screen drives, and how it is switched, on every page."""
    try:
        status = data.connect().status()
    except data.LabUnavailableError:
        st.sidebar.warning("No lab running: start one with `./fapi-lab up`.")
        return
    on = len(status["enabled_controls"])
    st.sidebar.caption(f"Lab at {status['as']} · profile **{status['profile']}** · "
                       f"{on} control{'' if on == 1 else 's'} on · capture "
                       f"{'on' if status.get('capture') else 'off'}")


def main() -> None:
    # A local icon: Material icons and emoji as page icons make the browser fetch the favicon
    # from Google's and a CDN's servers, and the dashboard must run offline.
    st.set_page_config(page_title="FAPI Lab", page_icon=str(ICON), layout="wide")
    navigation = st.navigation({
        "Learn": [
            st.Page(PAGES / "workshop.py", title="Workshop",
                    default=True),
            st.Page(PAGES / "controls.py", title="Controls"),
            st.Page(PAGES / "attacks.py", title="Attacks"),
        ],
        "Evidence": [
            st.Page(PAGES / "matrix.py", title="Matrix"),
            st.Page(PAGES / "tokens.py", title="Token inspector"),
            st.Page(PAGES / "events.py", title="Events"),
            st.Page(PAGES / "audit.py", title="Audit trail"),
            st.Page(PAGES / "load.py", title="Load tests"),
            st.Page(PAGES / "detect.py", title="Detection"),
        ],
    })
    sidebar_status()
    navigation.run()


main()
