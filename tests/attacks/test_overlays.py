"""attacks.md §3.1, measured: every attack FAPI 2.0 leaves open is blocked under the overlay
(`fapi2-security+extras` or `+adaptive`) that switches on a lab control the catalog names,
and the refusal is one of that overlay's controls (or comes through one, `fires_via`)."""

from __future__ import annotations

from typing import Any

import pytest

from attacker import docs, lookup
from lab.controls import catalog as controls_catalog
from lab.controls import profiles
from tests.attacks.conftest import story

OPEN = [a for a in lookup.implemented().values() if not a.fapi2_blocks]


def _cases() -> list[Any]:
    return [pytest.param(attack, overlay, id=f"{attack.id}@{overlay}")
            for attack in OPEN for overlay in docs.overlays_of(docs.lab_blockers(attack))]


def test_every_open_attack_but_three_has_a_lab_control_in_an_overlay() -> None:
    """FAPI2 §6.5: once the response leaks, nothing redirect-based stops browser swapping.
    request-uri-replay-csrf is stopped by a stricter parameter of a control fapi2-security
    has on (request_uri_single_use consume_at=load), not by a control an overlay adds.
    user-correlation-across-apps is closed by pairwise_subjects, a privacy choice of the AS
    that no overlay switches on (OIDC Core §8 leaves it to the deployment): `--set
    pairwise_subjects=on` shows it."""
    without = [a.id for a in OPEN if not docs.overlays_of(docs.lab_blockers(a))]
    assert without == ["browser-swapping", "request-uri-replay-csrf",
                       "user-correlation-across-apps"]


@pytest.mark.parametrize(("attack", "overlay"), _cases())
def test_the_overlay_blocks_what_fapi2_leaves_open(attack: Any, overlay: str,
                                                   run_attack: Any) -> None:
    outcome = run_attack(attack, overlay)
    added = set(profiles.marks(overlay)) - set(profiles.marks(profiles.OVERLAY_BASE))
    via = added | {v for c in added for v in controls_catalog.get(c).fires_via or ()}
    assert outcome.status == "blocked", story(outcome)
    # The refusal is one of the overlay's own controls (the base profile let it through).
    assert via & set(outcome.fired_controls), story(outcome)
