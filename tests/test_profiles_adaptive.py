"""The `fapi2-security+adaptive` overlay: its marks, and that it is listed wherever profiles are
(CLI, admin API, matrix columns, docs pages, the TPP's defaults)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from attacker import matrix
from lab.admin import describe
from lab.cli import show
from lab.controls import catalog, docs, profiles
from lab.tpp import settings as tpp_settings

ADAPTIVE = "fapi2-security+adaptive"
# A catalog control no FAPI profile marks, standing in for the adaptive ones in the tests that
# must not depend on which of them a branch has built.
STAND_IN = "tpp_checks_state"


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(profiles.OVERLAYS, "+adaptive", (STAND_IN, "not_built_yet"))
    return STAND_IN


def test_the_overlay_is_fapi2_security_plus_the_adaptive_controls_marked_plus() -> None:
    marks = profiles.marks(ADAPTIVE)
    base = profiles.marks("fapi2-security")
    added = {c: m for c, m in marks.items() if c not in base}
    assert added == dict.fromkeys(profiles.overlay_controls("+adaptive"), "+")
    assert set(added) == set(profiles.ADAPTIVE) & set(catalog.BY_ID)
    assert {c: marks[c] for c in base} == base
    # +extras stays FAPI 2.0 §6's optional mitigations: no adaptive control in it.
    assert not set(profiles.marks("fapi2-security+extras")) & set(profiles.ADAPTIVE)
    assert profiles.base_name(ADAPTIVE + "*") == "fapi2-security"
    assert profiles.enabled(ADAPTIVE) == profiles.enabled("fapi2-security") | set(added)


def test_an_id_not_in_the_catalog_is_skipped(stand_in: str) -> None:
    assert profiles.overlay_controls("+adaptive") == (stand_in,)
    assert profiles.marks(ADAPTIVE)[stand_in] == "+"
    assert "not_built_yet" not in profiles.marks(ADAPTIVE)


def test_every_adaptive_control_is_off_in_every_plain_profile() -> None:
    for name in profiles.PROFILES:
        assert not set(profiles.marks(name)) & set(profiles.ADAPTIVE), name


def test_the_overlay_is_listed_wherever_profiles_are(stand_in: str) -> None:
    assert profiles.names()[-2:] == ["fapi2-security+extras", ADAPTIVE]
    assert profiles.DESCRIPTIONS[ADAPTIVE]
    listing = describe.profile_list(None)     # the admin API's /profiles, what the dashboard reads
    row = next(p for p in listing["profiles"] if p["name"] == ADAPTIVE)
    assert row["description"] == profiles.DESCRIPTIONS[ADAPTIVE]
    assert row["controls"][stand_in] == "+"
    out = io.StringIO()
    show.profiles(listing, Console(file=out, width=250))     # `fapi-lab profile`
    assert ADAPTIVE in out.getvalue()
    assert ADAPTIVE in [c.id for c in matrix.columns() if c.kind == "profile"]
    page = docs.render(catalog.get(stand_in), [])
    assert f"| `{ADAPTIVE}` | + on: added by the overlay |" in page
    assert tpp_settings.defaults_for(ADAPTIVE) == tpp_settings.defaults_for("fapi2-security")
