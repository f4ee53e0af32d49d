"""Workshop: the scenarios as numbered exercises — story, hint, and a check that says when
the participant has made the attack fail, and with which control."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from attacker.scenarios import ScenarioError
from dashboard import attack_run, data, shell, workshop

lab = shell.require_lab()
st.title("Workshop")
st.caption("Each exercise shows an attack that works against the lab as it starts, then asks "
           "you to make it fail by switching on the right protection.")

try:
    exercises = workshop.exercises()
except ScenarioError as error:
    st.error(f"A scenario file is broken, so the exercises cannot be listed: {error}")
    st.stop()
by_number = {e.number: e for e in exercises}
try:
    kept_progress, last_touched = workshop.progress(lab)
except data.LabUnavailableError as error:
    shell.show_unavailable(error)
    st.stop()
# The picker's own state is dropped while another page is shown (Controls, in step 3), so the
# chosen exercise is kept under a key of its own and handed back to the picker; a new browser
# session (a reload, a second tab) starts at the exercise the lab saw worked on last.
numbers = list(by_number)
kept = st.session_state.get("workshop_current", last_touched or numbers[0])
number = st.selectbox("Exercise", numbers, key="workshop_exercise",
                      index=numbers.index(kept) if kept in numbers else 0,
                      on_change=lambda: st.session_state.update(
                          workshop_current=st.session_state["workshop_exercise"]),
                      format_func=lambda n: f"{n}. {by_number[n].title}")
exercise = by_number[number]
scenario = exercise.scenario
mine = kept_progress.get(number, workshop.Progress())

st.header(f"{exercise.number}. {exercise.title}")
st.markdown(scenario.brief or scenario.story)
if scenario.brief:
    with st.expander(f"Exercise {number} in protocol terms"):  # one per exercise: opening
        # it for one exercise must not open (and give away) the next
        st.markdown(scenario.story)


def _keep(save: Callable[[data.Lab, int, Any], None], result: Any) -> None:
    """Record a step's result in the lab; if the lab is gone, the page still shows it."""
    try:
        save(lab, number, result)
    except data.LabUnavailableError as error:
        st.warning(f"Your progress could not be saved in the lab ({error}); "
                   "it is shown here until you reload the page.")


st.subheader("Step 1 — set up the lab")
st.markdown("Puts every switch where this exercise starts (your earlier changes are undone).")
if st.button("Set up this exercise", key="workshop_setup"):
    try:
        note = workshop.set_up(lab, exercise)
        workshop.record_setup(lab, number, note)
        mine = workshop.Progress(setup=note)
    except data.LabUnavailableError as error:
        shell.show_unavailable(error)
if mine.setup is not None:
    st.success(mine.setup)

st.subheader("Step 2 — watch the attack work")
st.markdown(f"Runs the attack **{exercise.attack}** against the lab as it is now.")
if st.button("Run the attack", key="workshop_run", disabled=mine.setup is None,
             help="Set up the exercise first (step 1)."):
    with st.spinner("The victim signs in and the attacker strikes…"):
        mine.ran = workshop.Ran.of(attack_run.run_attack(lab, exercise.attack))
    _keep(workshop.record_run, mine.ran)
first = mine.ran
if first is not None:
    if first.status == "succeeded":
        st.error(f"The attack worked: {first.summary}")
    elif first.status == "error":
        st.warning(f"The attack could not run: {first.summary}")
    else:
        st.warning(f"Already blocked ({', '.join(first.fired) or 'a control'}): "
                   f"{first.summary}. Set up the exercise again to start from its beginning.")
    st.caption("The Attacks page shows this run step by step, with every captured request.")

st.subheader("Step 3 — your turn: make it fail")
if not exercise.solvable:
    st.info("No switch built so far stops this attack: that is the lesson of this step. "
            + (scenario.lesson or ""))
else:
    st.markdown("Open the **Controls** page (left menu), switch on the protection you think "
                "stops this attack, come back here and press **Check**.")
    with st.expander(f"Hint for exercise {number}"):
        st.markdown(scenario.hint or "Look at the controls whose teaching text mentions what "
                    "the attacker abused in the story.")
    if st.button("Check", key="workshop_check", disabled=mine.ran is None,
                 help="Run the attack once first (step 2), so you have seen it work."):
        with st.spinner("Running the attack again with your switches…"):
            run = attack_run.run_attack(lab, exercise.attack)
            mine.checked = workshop.judge(exercise, run)
        _keep(workshop.record_check, mine.checked)
    verdict = mine.checked
    if verdict is not None:
        show = {"success": st.success, "warning": st.warning, "error": st.error,
                "info": st.info}[verdict.tone]
        show(verdict.headline)
        for line in verdict.details:
            st.markdown(line)
        if verdict.solved and scenario.lesson:
            st.markdown(f"**What to remember:** {scenario.lesson}")
            if number + 1 in by_number:
                st.markdown(f"Next: exercise {number + 1}, "
                            f"*{by_number[number + 1].title}* (pick it above).")
