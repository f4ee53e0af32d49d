"""Load tests: what each control costs, from `fapi-lab load` results, as charts."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, load_view

st.title("Load tests")
st.caption("`fapi-lab load` runs Locust against the lab and writes results.json; this page "
           "charts them. Each control's cost is a ratio to its baseline measured in the same run.")

config = data.lab_config()
found = [d for d in load_view.candidates(Path.cwd(), config.data_dir)
         if (d / "results.json").exists()]
default = str(found[0]) if found else str(Path.cwd() / "load-results")
folder = st.text_input("Results folder", value=default, key="load_dir")
try:
    results = load_view.load(Path(folder).expanduser())
except load_view.NoResultsError as error:
    st.info(str(error))
    st.code("./fapi-lab load --out load-results", language="bash")
    st.stop()

meta = results.meta
st.markdown(f"Profile `{meta.get('profile', '?')}`, {meta.get('users', '?')} users, "
            f"{meta.get('duration', '?')} s per workload, Locust {meta.get('locust', '?')}.")
st.subheader("Throughput")
st.bar_chart(results.throughput(), x="workload", y="requests/s", horizontal=True)
st.subheader("Latency")
st.bar_chart(results.latency(), x="workload", y=["p50 ms", "p95 ms", "p99 ms"], stack=False)
st.subheader("What each control costs")
if results.comparisons:
    # A linking flow is compared per whole linking ("unit"), not per HTTP request.
    st.dataframe([{"comparison": c["comparison"], "req/s vs baseline": c["rps_ratio"],
                   "unit": c.get("unit", "req/s"),
                   "throughput vs baseline": c.get("rate_ratio", c["rps_ratio"]),
                   "p50 vs baseline": c["p50_ratio"]} for c in results.comparisons],
                 hide_index=True, key="load_comparisons")
else:
    st.caption("No comparison in these results (run the baseline workloads too, e.g. "
               "`--workload bearer --workload dpop`).")
st.dataframe(results.workloads, hide_index=True, key="load_table")
