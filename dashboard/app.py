"""FAPI Lab's workshop screen: `streamlit run dashboard/app.py` (started by `fapi-lab up`).

One page per screen of the design brief; each page lives in `dashboard/pages/` and reads
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

PAGES = Path(__file__).resolve().parent / "pages"


def main() -> None:
    st.set_page_config(page_title="FAPI Lab", page_icon="🛡️", layout="wide")
    navigation = st.navigation({
        "Learn": [
            st.Page(PAGES / "workshop.py", title="Workshop", icon="🎓", default=True),
            st.Page(PAGES / "controls.py", title="Controls", icon="🎚️"),
            st.Page(PAGES / "attacks.py", title="Attacks", icon="🗡️"),
        ],
        "Evidence": [
            st.Page(PAGES / "matrix.py", title="Matrix", icon="🧮"),
            st.Page(PAGES / "tokens.py", title="Token inspector", icon="🔎"),
            st.Page(PAGES / "events.py", title="Events", icon="📜"),
            st.Page(PAGES / "load.py", title="Load tests", icon="📈"),
        ],
    })
    navigation.run()


if __name__ == "__main__":  # `streamlit run` runs this file as __main__
    main()
