"""Workshop exercises: set up, watch the attack work, switch the right control, check."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import workshop
from dashboard.shell import PAGES
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab

pytestmark = pytest.mark.usefixtures("fresh_workshop")

def test_exercises_follow_the_teaching_order_and_name_their_control() -> None:
    found = workshop.exercises()
    assert [e.number for e in found] == sorted(e.number for e in found)
    first_three = found[:3]
    assert [e.attack for e in first_three] == ["redirect-uri-manipulation",
                                               "csrf-redirect-endpoint", "mix-up"]
    assert [e.controls for e in first_three] == [("exact_redirect_uri",), ("tpp_checks_state",),
                                                 ("tpp_checks_iss",)]
    for exercise in first_three:  # what a newcomer reads: plain story, hint, lesson
        assert exercise.scenario.brief and exercise.scenario.hint and exercise.scenario.lesson
    throttling = next(e for e in found if e.attack == "credential-stuffing")
    assert throttling.controls == ("login_throttling",)
    assert throttling.scenario.brief and throttling.scenario.hint and throttling.scenario.lesson


def test_exercise_one_from_setup_to_solved(page, dash_lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(dash_lab.store)
    registry.apply_profile("fapi2-security")        # wherever the lab was before
    app = page("workshop")
    assert app.button(key="workshop_run").disabled
    app.button(key="workshop_setup").click().run()
    assert registry.profile() == "legacy" and not registry.is_on("exact_redirect_uri")
    assert any("`legacy` profile" in s.value for s in app.success)

    app.button(key="workshop_run").click().run()
    assert not app.exception
    assert any(e.value.startswith("The attack worked") for e in app.error), \
        [e.value for e in app.error]

    app.button(key="workshop_check").click().run()      # nothing switched yet
    assert any(e.value == "The attack still works." for e in app.error)

    registry.set({"exact_redirect_uri": True})          # what the Controls page does
    app.button(key="workshop_check").click().run()
    assert not app.exception
    solved = [s.value for s in app.success]
    assert any("Solved: Exact redirect URI refused the attack." in s for s in solved), solved
    assert any("What to remember" in m.value for m in app.markdown)
    registry.apply_profile("legacy")


def test_a_block_by_another_control_is_not_the_lesson(page, dash_lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(dash_lab.store)
    app = page("workshop")
    app.selectbox(key="workshop_exercise").set_value(2).run()
    app.button(key="workshop_setup").click().run()
    app.button(key="workshop_run").click().run()
    assert any(e.value.startswith("The attack worked") for e in app.error)
    registry.set({"pkce_required": True})   # blocks the injected code, but it is not `state`
    app.button(key="workshop_check").click().run()
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert any("not because of the control this exercise is about" in w for w in warnings), \
        (warnings, [e.value for e in app.error], [s.value for s in app.success])
    registry.apply_profile("legacy")


def test_the_chosen_exercise_survives_a_trip_to_the_controls_page(page) -> None:  # type: ignore[no-untyped-def]
    app = page("workshop")
    app.selectbox(key="workshop_exercise").set_value(3).run()
    assert app.session_state["workshop_current"] == 3
    # Streamlit drops the picker's own state while another page is shown (step 3 sends the
    # participant to Controls); coming back, the page starts from what it kept.
    back = AppTest.from_file(str(PAGES / "workshop.py"), default_timeout=60)
    back.session_state["workshop_current"] = 3
    back.run()
    assert not back.exception
    assert back.selectbox(key="workshop_exercise").value == 3
    assert back.header[0].value.startswith("3. ")
