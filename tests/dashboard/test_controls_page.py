"""The controls page switches the running lab and shows what the AS now advertises."""

from __future__ import annotations

from dashboard import controls_view, data
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab


def test_controls_are_grouped_by_where_they_are_enforced(page) -> None:  # type: ignore[no-untyped-def]
    app = page("controls")
    headers = [h.value for h in app.subheader]
    assert headers[:4] == ["Profiles", "Authorization server", "Bank (resource server)",
                           "TPP (FinLens, the client)"]
    assert {t.key for t in app.toggle} >= {"ctl_par_required", "ctl_dpop_bound_tokens",
                                           "ctl_tpp_checks_state"}


def test_a_toggle_switches_the_lab_and_shows_the_metadata_that_changed(
        page, dash_lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(dash_lab.store)
    registry.apply_profile("legacy")
    app = page("controls")
    assert app.toggle(key="ctl_par_required").value is False
    app.toggle(key="ctl_par_required").set_value(True).run()
    assert not app.exception
    assert registry.is_on("par_required")
    fields = [f for frame in app.dataframe for f in frame.value["field"]]
    assert "require_pushed_authorization_requests" in fields
    assert any("par_required switched on" in m.value for m in app.markdown)
    app.toggle(key="ctl_par_required").set_value(False).run()
    assert not registry.is_on("par_required")


def test_a_profile_button_applies_the_profile(page, dash_lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(dash_lab.store)
    registry.apply_profile("legacy")
    app = page("controls")
    app.button(key="profile_fapi2-security").click().run()
    assert not app.exception
    assert registry.profile() == "fapi2-security"
    assert app.toggle(key="ctl_dpop_bound_tokens").value is True
    registry.apply_profile("legacy")


def test_the_adaptive_overlay_has_its_button(page) -> None:  # type: ignore[no-untyped-def]
    app = page("controls")
    assert app.button(key="profile_fapi2-security+adaptive").label == "fapi2-security+adaptive"


def test_switching_reports_what_requires_pulled_in(dash_lab: RunningLab) -> None:
    lab = data.connect()
    Registry(dash_lab.store).apply_profile("legacy")
    needing = next(c for c in lab.controls() if c["requires"])
    change = controls_view.switch(lab, needing["id"], True)
    assert change.switched.get(needing["id"]) is True
    for required in needing["requires"]:
        assert Registry(dash_lab.store).is_on(required)
    Registry(dash_lab.store).apply_profile("legacy")


def test_the_page_says_how_to_start_a_lab_when_none_runs(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    from dashboard.shell import PAGES

    monkeypatch.setenv("FAPI_LAB_HOME", str(tmp_path))
    app = AppTest.from_file(str(PAGES / "controls.py"), default_timeout=30)
    app.run()
    assert not app.exception
    assert any("No running lab" in e.value for e in app.error)
    assert any("fapi-lab up" in m.value for m in app.markdown)
