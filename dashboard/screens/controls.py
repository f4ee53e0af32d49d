"""Controls: every switch with its spec and teaching text, profile presets, and what changed."""

from __future__ import annotations

import streamlit as st

from dashboard import controls_view, data, shell

lab = shell.require_lab()
st.title("Controls")
st.caption("Each FAPI protection is a switch. A change applies to the running lab at once: "
           "the AS, the bank and FinLens enforce it from the next request, and the AS "
           "publishes it in its discovery metadata.")


def _remember(change: controls_view.Change) -> None:
    st.session_state["controls_last_change"] = change
    # The summary sits at the top of the page; a toast shows it where the switch was clicked.
    for note in change.notes:
        st.toast(note)


def _on_toggle(control_id: str) -> None:
    try:
        on = bool(st.session_state[f"ctl_{control_id}"])
        _remember(controls_view.switch(lab, control_id, on))
    except data.LabUnavailableError as error:
        st.session_state["controls_error"] = str(error)


def _on_profile(name: str) -> None:
    try:
        _remember(controls_view.apply_profile(lab, name))
    except data.LabUnavailableError as error:
        st.session_state["controls_error"] = str(error)


try:
    controls = lab.controls()
    profiles = lab.profiles()
except data.LabUnavailableError as error:
    shell.show_unavailable(error)
    raise

if error_text := st.session_state.pop("controls_error", None):
    st.error(f"The change did not apply: {error_text}")

st.subheader("Profiles")
st.markdown(f"Current: **{profiles['current']}**"
            + (" (a profile with switches changed by hand)" if profiles["modified"] else ""))
columns = st.columns(len(profiles["profiles"]))
for column, profile in zip(columns, profiles["profiles"], strict=True):
    with column:
        st.button(profile["name"], key=f"profile_{profile['name']}", help=profile["description"],
                  on_click=_on_profile, args=(profile["name"],),
                  type="primary" if profile["current"] else "secondary",
                  use_container_width=True)
        st.caption(profile["description"])

change: controls_view.Change | None = st.session_state.get("controls_last_change")
if change is not None:
    with st.container(border=True):
        st.markdown(f"**Last change:** {change.what}")
        for note in change.notes:
            st.info(note)
        if change.switched:
            st.markdown("Switched: " + ", ".join(
                f"`{c}` {'on' if on else 'off'}" for c, on in change.switched.items()))
        if change.metadata:
            st.markdown("Discovery metadata that changed (what clients now read at "
                        "`/.well-known/oauth-authorization-server`):")
            st.dataframe([{k: controls_view.short(v) for k, v in row.items()}
                          for row in change.metadata], hide_index=True, key="metadata_diff")
        else:
            st.caption("No discovery field changed: this control is enforced without being "
                       "advertised.")

for place, rows in controls_view.grouped(controls).items():
    st.subheader(place)
    for control in rows:
        key = f"ctl_{control['id']}"
        st.session_state[key] = bool(control["on"])
        left, right = st.columns([3, 5])
        with left:
            st.toggle(control["title"], key=key, on_change=_on_toggle, args=(control["id"],),
                      help=control["checks"])
        with right:
            also = control["enforced_at"][1:]
            st.markdown(f"`{control['id']}` · {control['spec']}"
                        + (f" · also enforced at {', '.join(also)}" if also else ""))
            with st.expander("Why it matters"):
                teaching = controls_view.teaching(control["id"])
                st.markdown(teaching.text)
                st.markdown(f"**When off:** {teaching.off_behaviour}")
                st.markdown(f"**When it refuses:** {control['refusal']['text']}")
                if control["requires"]:
                    st.markdown("**Needs:** " + ", ".join(f"`{r}`" for r in control["requires"]))
                if teaching.attacks:
                    st.markdown("**Blocks the attacks:** " + ", ".join(
                        f"`{a}`" for a in teaching.attacks))
