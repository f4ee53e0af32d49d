"""Attacks: pick one, run it against the lab, and follow its story exchange by exchange."""

from __future__ import annotations

from typing import Any

import streamlit as st

from attacker import lookup
from dashboard import attack_run, attacks_view, data, sequence, shell

lab = shell.require_lab()
st.title("Attacks")
st.caption("Each attack runs against the lab as it is now: a scripted victim uses FinLens, "
           "the attacker reads only what its type could see on the captured legs, and the "
           "lab measures which control (if any) refused it.")

RUNS = "attack_runs"          # attack id → its last AttackRun (survives reruns)
DETAILS = "attack_details"    # capture id → its full exchange (captures never change)
st.session_state.setdefault(RUNS, {})
st.session_state.setdefault(DETAILS, {})

rows = attack_run.choices()
labels = {r["id"]: f"{r['id']} — {r['title']}" for r in rows if r["runnable"]}
pending = [r for r in rows if not r["runnable"]]
pick = st.selectbox("Attack", list(labels), format_func=lambda i: labels.get(i, i),
                    key="attack_pick")
if pending:
    with st.expander(f"{len(pending)} catalog attacks are not built yet"):
        for row in pending:
            st.markdown(f"- `{row['id']}` — {row['title']}: {row['reason']}")
if pick is None:
    st.stop()

info = attack_run.attack_info(lookup.get(pick))
with st.container(border=True):
    st.markdown(f"**Premise:** {info['premise']}")
    st.markdown(f"**Goal:** {info['goal']}")
    st.markdown("**Attacker:** " + "; ".join(attacks_view.attacker_types(info["attacker"]))
                + f" · reads {', '.join(f'`{leg}`' for leg in info['legs']) or 'no legs'}")
    st.markdown("**Expected to be blocked by:** " + (", ".join(
        attacks_view.control_title(c) for c in info["expected_blockers"]) or "nothing"))
    if not info["fapi2_blocks"]:
        st.markdown(f"**FAPI 2.0 does not block this:** {info['why_not']}")
    if info["refs"]:
        st.caption("References: " + "; ".join(info["refs"]))

try:
    profiles = lab.profiles()
    controls = lab.controls()
except data.LabUnavailableError as error:
    shell.show_unavailable(error)
    raise
off = sorted((c for c in controls if not c["on"]),
             key=lambda c: (c["id"] not in info["expected_blockers"], c["id"]))
titles = {c["id"]: c["title"] for c in controls}
st.markdown(f"Runs under the lab's current switches: profile **{profiles['current']}**"
            + (" (changed by hand)" if profiles["modified"] else "")
            + ". Change them on the Controls page, or switch some on for this run only:")
switch_on = st.multiselect("Switch on for this run only", [c["id"] for c in off],
                           format_func=lambda c: f"{c} — {titles.get(c, '')}",
                           key="attack_switch_on")
if info["victim"] == "none":
    st.caption("This attack has no victim: the attacker acts alone.")
victim = st.radio("Victim", ["HTTP", "real browser"], horizontal=True, key="attack_victim",
                  help="HTTP: a fast scripted user agent. Real browser: headless Chromium "
                       "follows every redirect and runs the pages' scripts (slower).")
if victim == "real browser" and (missing := attack_run.browser_missing()):
    st.warning(f"The real-browser victim cannot run here: {missing}")

if st.button("Run the attack", key="attack_run", type="primary"):
    with st.spinner("The victim signs in, the attacker strikes…"):
        st.session_state[RUNS][pick] = attack_run.run_attack(
            lab, pick, browser=victim == "real browser",
            changes=dict.fromkeys(switch_on, True))

run: attack_run.AttackRun | None = st.session_state[RUNS].get(pick)
if run is None:
    st.stop()

st.divider()
st.subheader("Outcome")
with st.container(key="attack_outcome"):  # the verdict, as a whole (tests find it)
    extra = (f" · switched on for the run: {', '.join(f'`{c}`' for c in run.changes)}"
             if run.changes else "")
    profile = run.story.get("configuration", {}).get("profile")
    st.caption(f"{'real browser' if run.browser else 'HTTP'} victim · "
               + (f"profile {profile}" if profile else "current switches")
               + f"{extra} · {run.seconds} s")
    text = f"**{attacks_view.headline(run)}**  \n{run.summary}"
    if run.status == "succeeded":
        st.error(text)
    elif run.status == "blocked":
        st.success(text)
    elif run.status == "victim-failed":
        st.info(text)
        st.caption("Not blocked: the switch broke the victim's own flow (FinLens, as "
                   "configured, could not complete it), so the attack never ran.")
    else:
        st.warning(text)
    victim_failed = run.status == "victim-failed"
    for fired in attacks_view.fired_controls(run, victim=victim_failed):
        with st.container(border=True):
            st.markdown(f"**{'Refused the victim' if victim_failed else 'Fired'}: "
                        f"{fired.title}** (`{fired.id}`) · {fired.spec}")
            st.markdown(fired.teaching)
            for reason in fired.reasons:
                st.caption(reason)
    if run.story:
        expected = run.attack.get("expected_blockers", [])
        st.caption(f"Catalog blockers: {', '.join(expected) or 'none'} · fired on the "
                   f"attacker's requests: {', '.join(run.fired) or 'none'}")

if run.story.get("steps"):
    st.subheader("The story")
    st.markdown("\n".join(attacks_view.step_line(i, s)
                          for i, s in enumerate(run.story["steps"], 1)))

diagram = sequence.build(run.exchanges, run.story, attacks_view.lab_origins(lab.config))
arrow_of = {a.capture_id: a.number for a in diagram.arrows if a.capture_id is not None}
if run.story:
    st.subheader("Sequence diagram")
    st.caption(f"{len(run.exchanges)} exchanges recorded by the capture during the run; "
               "the arrows' numbers are the [n] of the captured exchanges listed below.")
    st.html(diagram.html())

if run.status == "succeeded" and run.story.get("stolen") is not None:
    st.subheader("What the attacker got")
    st.json(run.story["stolen"], expanded=2)
if run.story.get("captured"):
    st.subheader("What the attacker read from the capture")
    for leaked in run.story["captured"]:
        arrow = arrow_of.get(leaked["capture_id"])
        st.markdown(f"- {f'[{arrow}] ' if arrow else ''}capture #{leaked['capture_id']} · "
                    f"`{leaked['leg']}` · "
                    f"`{leaked['method']} {attacks_view.shorten(leaked['url'], 100)}` → "
                    f"{leaked['status']}")
if run.story.get("refusal"):
    st.subheader("The refusal")
    st.json(attacks_view.refusal_view(run.story["refusal"]))


def _detail(capture_id: int) -> dict[str, Any] | None:
    cache: dict[int, dict[str, Any]] = st.session_state[DETAILS]
    if capture_id not in cache:
        try:
            cache[capture_id] = lab.capture(capture_id)
        except data.LabUnavailableError:
            return None
    return cache[capture_id]


if run.exchanges:
    st.subheader("Captured exchanges")
    for exchange in run.exchanges[:attacks_view.MAX_LISTED]:
        with st.expander(attacks_view.exchange_title(exchange, arrow_of.get(exchange["id"]))):
            detail = _detail(int(exchange["id"]))
            if detail is None:
                st.caption("This exchange is no longer available from the lab.")
                continue
            st.markdown(f"`{detail.get('method')} {detail.get('url')}` from "
                        f"`{detail.get('client_addr') or '?'}` · request id "
                        f"`{detail.get('request_id') or '—'}`")
            request, response = st.columns(2)
            with request:
                st.markdown("**Request**")
                st.code(attacks_view.headers_text(detail.get("request_headers")),
                        language=None, wrap_lines=True)
                st.code(*attacks_view.body_view(detail.get("request_body")), wrap_lines=True)
            with response:
                st.markdown(f"**Response** {detail.get('status') or ''}")
                st.code(attacks_view.headers_text(detail.get("response_headers")),
                        language=None, wrap_lines=True)
                st.code(*attacks_view.body_view(detail.get("response_body")), wrap_lines=True)
    if len(run.exchanges) > attacks_view.MAX_LISTED:
        st.caption(f"{len(run.exchanges) - attacks_view.MAX_LISTED} more exchanges not listed.")
