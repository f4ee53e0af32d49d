"""Workshop exercise 14, login throttling, from set-up to solved on the Workshop page: the
leaked-password list confirms bob's password under fapi2-security+extras, and with
login_throttling switched on the check says the control refused it."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard import workshop
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab

pytestmark = pytest.mark.usefixtures("fresh_workshop")


def test_the_throttling_exercise_from_setup_to_solved(page: Any, dash_lab: RunningLab) -> None:
    number = next(e.number for e in workshop.exercises() if e.attack == "credential-stuffing")
    registry = Registry(dash_lab.store)
    app = page("workshop")
    app.selectbox(key="workshop_exercise").set_value(number).run()
    assert app.header[0].value.startswith(f"{number}. ")
    assert any("bob" in m.value and "password" in m.value for m in app.markdown)
    app.button(key="workshop_setup").click().run()
    assert registry.profile() == "fapi2-security+extras"
    assert not registry.is_on("login_throttling")

    app.button(key="workshop_run").click().run()
    assert not app.exception
    assert any(e.value.startswith("The attack worked") for e in app.error), \
        [e.value for e in (*app.error, *app.warning)]

    registry.set({"login_throttling": True})          # what the Controls page does
    app.button(key="workshop_check").click().run()
    assert not app.exception
    solved = [s.value for s in app.success]
    assert any("Solved: Login throttling and lockout refused the attack." in s
               for s in solved), (solved, [w.value for w in app.warning])
    assert any("What to remember" in m.value and "RTS Art. 4" in m.value
               for m in app.markdown)
    registry.apply_profile("legacy")
