"""The spine (style.md §1): every control id has its five places, and profiles name real ids.

One control id, used verbatim: definition (lab/controls/catalog.py or a part of it),
enforcement point (`guard("<id>")` under lab/), tests (tests/controls/test_<id>.py), docs
(docs/controls/<id>.md), and the registry; the attacks it blocks name it in their
`blocked_by` (tests/attacks/test_attack_docs.py checks those and the pages' currency).
A control missing any of them fails here, by name, with the path it expected. Nothing is
skipped: a red test means a place is still missing.
"""

from __future__ import annotations

import pytest

from lab.controls import catalog, profiles, spine
from lab.controls.registry import Registry
from lab.store import SQLiteStore

IDS = [c.id for c in catalog.CONTROLS]
# An enabler refuses nothing itself, and a control with fires_via has its refusals recorded
# by another control's guard (attacks.md §0): for them a guard of their own is optional.
GUARDED = [c.id for c in catalog.CONTROLS if c.kind != "enabler" and not c.fires_via]


@pytest.mark.parametrize("control_id", IDS)
def test_control_has_a_docs_page(control_id: str) -> None:
    path = spine.control_docs_path(control_id)
    assert path.exists(), f"missing {spine.relative(path)}: run `python -m attacker.docs`"


@pytest.mark.parametrize("control_id", IDS)
def test_control_has_one_definition_module(control_id: str) -> None:
    definition = spine.definition(control_id)
    assert definition and definition.startswith("lab/controls/catalog"), control_id
    assert spine.places(control_id)["definition"] == definition


@pytest.mark.parametrize("control_id", IDS)
def test_control_has_its_own_test_module(control_id: str) -> None:
    path = spine.control_test_path(control_id)
    assert path.exists(), f"missing {spine.relative(path)} (both ways: off shows the weakness, " \
                          f"on refuses with the ControlFired event)"


@pytest.mark.parametrize("control_id", GUARDED)
def test_control_has_an_enforcement_point(control_id: str) -> None:
    points = spine.enforcement_points(control_id)
    assert points, f'no guard("{control_id}") under lab/ (enforced at ' \
                   f'{" + ".join(catalog.get(control_id).enforced_at)})'


@pytest.mark.parametrize("control_id", IDS)
def test_registry_knows_every_control(control_id: str, tmp_path_factory: pytest.TempPathFactory
                                      ) -> None:
    store = SQLiteStore(tmp_path_factory.mktemp("spine") / "lab.sqlite3")
    registry = Registry(store)
    assert control_id in registry.snapshot()["controls"]
    registry.set({control_id: True})
    assert registry.is_on(control_id)
    registry.set({control_id: False})
    assert not registry.is_on(control_id)


@pytest.mark.parametrize("profile", profiles.names())
def test_profiles_name_only_catalog_controls(profile: str) -> None:
    unknown = set(profiles.marks(profile)) - set(catalog.BY_ID)
    assert not unknown, f"profile {profile} names unknown controls {sorted(unknown)}"
    for control_id, params in profiles.params(profile).items():
        assert set(params) <= set(catalog.get(control_id).params), f"{control_id}: {params}"
    for control in catalog.CONTROLS:
        assert set(control.profile_params) <= set(profiles.PROFILES), control.id
    assert profiles.DESCRIPTIONS.get(profile), f"profile {profile} has no description"


def test_control_ids_are_unique_snake_case() -> None:
    assert len(IDS) == len(set(IDS))
    for control_id in IDS:
        assert control_id == control_id.lower() and " " not in control_id and "-" not in control_id
        control = catalog.get(control_id)
        alternatives = tuple(a for alts in control.requires_alternatives.values() for a in alts)
        assert set(control.requires_alternatives) <= set(control.requires), control_id
        for required in control.requires + control.fires_via + alternatives:
            assert required in catalog.BY_ID, f"{control_id} refers to unknown {required}"
