"""Discovery is the same document, key for key and value for value, as before it was derived
from the controls catalog: tests/data/discovery_snapshot.json was written by
tests/support/discovery_snapshot.py on the code that still hard-coded it."""

import json

import pytest

from tests.support import discovery_snapshot

SNAPSHOT = json.loads(discovery_snapshot.SNAPSHOT.read_text())


@pytest.fixture(scope="module")
def today() -> dict:
    return json.loads(json.dumps(discovery_snapshot.scenarios(), sort_keys=True))


def test_the_snapshot_covers_every_profile_and_control() -> None:
    from lab.controls import catalog, profiles

    assert {f"profile {p}" for p in profiles.names()} <= set(SNAPSHOT)
    assert {f"only {c.id}" for c in catalog.CONTROLS} <= set(SNAPSHOT)


@pytest.mark.parametrize("scenario", sorted(SNAPSHOT))
def test_discovery_matches_the_snapshot(today: dict, scenario: str) -> None:
    assert today[scenario] == SNAPSHOT[scenario]
