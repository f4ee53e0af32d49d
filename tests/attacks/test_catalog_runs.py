"""Every implemented attack, run for real against a lab behind mitmproxy (attacks.md §3).

Under `legacy` it succeeds; under `fapi2-security` it is blocked with a catalog
control among the fired ones — or, where the catalog says FAPI 2.0 does not stop
it, it still succeeds. Each catalog blocker that exists, switched on alone over
`legacy`, blocks it and fires (attacks.md §0: the measured blockers).
"""

from __future__ import annotations

from typing import Any

import pytest

from attacker import lookup
from lab.controls import catalog as controls_catalog
from tests.attacks.conftest import story

ATTACKS = list(lookup.implemented().values())
SENDER_CONSTRAINTS = ("dpop_bound_tokens", "mtls_bound_tokens")
KNOWN = {c.id for c in controls_catalog.CONTROLS}


def _single_blockers() -> list[Any]:
    cases = []
    for attack in ATTACKS:
        for control in attack.blocked_by:
            if control in KNOWN and control not in attack.not_alone:
                cases.append(pytest.param(attack, control, id=f"{attack.id}+{control}"))
    return cases


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_succeeds_under_legacy(attack: Any, run_attack: Any) -> None:
    outcome = run_attack(attack, "legacy")
    assert outcome.status == "succeeded", story(outcome)
    assert outcome.stolen is not None or outcome.summary


def _prevented(attack: Any, outcome: Any, blockers: set[str]) -> bool:
    """An attack whose `needs` make FinLens weak on purpose (plain PKCE, a secret, no PAR)
    finds that weak flow refused: the victim's own flow fails and the attack never runs
    (victim-failed, never blocked), refused by one of the blockers."""
    return bool(attack.needs) and outcome.status == "victim-failed" \
        and bool(blockers & set(outcome.victim_fired))


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_fapi2_security(attack: Any, run_attack: Any) -> None:
    outcome = run_attack(attack, "fapi2-security")
    if not attack.fapi2_blocks:
        assert outcome.status == "succeeded", story(outcome)
        return
    expected = set(attack.blocked_by) | set(SENDER_CONSTRAINTS) | set(attack.also_blocked_by)
    # a blocker whose refusal comes from another control (attacks.md §0 `fires_via`)
    expected |= {v for c in attack.blocked_by if c in KNOWN
                 for v in controls_catalog.get(c).fires_via or ()}
    if _prevented(attack, outcome, expected):
        return
    assert outcome.status == "blocked", story(outcome)
    assert expected & set(outcome.fired_controls), story(outcome)


@pytest.mark.parametrize(("attack", "control"), _single_blockers())
def test_each_catalog_blocker_alone(attack: Any, control: str, run_attack: Any) -> None:
    outcome = run_attack(attack, "legacy", **{control: True})
    via = {control, *(controls_catalog.get(control).fires_via or ())}
    if _prevented(attack, outcome, via):
        return
    assert outcome.status == "blocked", story(outcome)
    assert control in outcome.fired_controls or any(
        c in outcome.fired_controls for c in controls_catalog.get(control).fires_via or ()), \
        story(outcome)
