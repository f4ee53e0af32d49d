"""Workshop step 13 waits in scenarios/after-payments/ for its attack and control; once both
exist (the payments engineer's part of issue 15) it must move to scenarios/ and pass there."""

from __future__ import annotations

import yaml

from attacker import lookup
from lab.cli.scenario import DEFAULT_DIR
from lab.controls import catalog

WAITING = DEFAULT_DIR / "after-payments" / "13-payment-tampering-after-consent.yaml"


def test_step_13_waits_until_payments_land_then_moves() -> None:
    ready = "payment-tampering-after-consent" in lookup.implemented() \
        and "payment_consent_binding" in catalog.BY_ID
    if ready:
        assert not WAITING.exists(), f"git mv {WAITING} {DEFAULT_DIR}/ (its attack is built)"
        return
    data = yaml.safe_load(WAITING.read_text())
    assert data["order"] == 13 and data["brief"] and data["hint"] and data["lesson"]
    assert [s["attack"] for s in data["steps"]] == ["payment-tampering-after-consent"] * 2
