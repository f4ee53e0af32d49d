"""docs/attacks.md is generated from the attack modules and must not drift from them."""

from __future__ import annotations

from attacker import docs, lookup
from lab.controls.attack_catalog import ATTACKS as EXPECTED


def test_docs_page_is_current() -> None:
    assert docs.PAGE.exists() and docs.PAGE.read_text() == docs.render(), \
        "docs/attacks.md is stale: run python -m attacker.docs"


def test_every_catalog_attack_is_implemented_or_pending_with_a_reason() -> None:
    implemented = lookup.implemented()
    for entry in EXPECTED:
        assert entry.id in implemented or lookup.PENDING.get(entry.id), entry.id
    assert not set(implemented) & set(lookup.PENDING)
    assert set(implemented) | set(lookup.PENDING) == {e.id for e in EXPECTED}


def test_listing_says_why_each_pending_attack_waits() -> None:
    rows = {r["id"]: r for r in lookup.listing()}
    for attack_id, reason in lookup.PENDING.items():
        assert rows[attack_id]["state"] == "pending"
        assert rows[attack_id]["reason"] == reason
