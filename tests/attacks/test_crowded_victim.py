"""A victim an earlier run left linked many times (issue 17's full-matrix 502).

A matrix job runs every cell on one private lab, and each run links FinLens as alice: by
refresh-after-revocation, 25 attacks into its job, she had some 1,230 links. The bank's
connected-apps page listed them all, grew past the capture proxy's 1 MiB body limit, and
mitmproxy answered her sign-in with its own 502. The page is now bounded, and a matrix run
starts with no links earlier runs left (runner.apply's throwaway).
"""

from __future__ import annotations

from typing import Any

from attacker import lookup, runner
from lab.domain import consent, ledger
from lab.serving.in_process import RunningLab
from tests.attacks.conftest import story

ATTACK = lookup.get("refresh-after-revocation")
SCOPE = "openid accounts:read transactions:read offline_access rewards:read"
# More links than a full matrix job gave alice before this attack: past 1 MiB of cards.
LINKS = 1300


def _crowd(lab: RunningLab, count: int) -> list[str]:
    accounts = {a["id"]: ["balances", "transactions"]
                for a in ledger.accounts_of(lab.store, "alice")}
    return [consent.create_grant(lab.store, username="alice", client_id="tpp", scope=SCOPE,
                                 accounts=accounts) for _ in range(count)]


def _withdraw(lab: RunningLab, grants: list[str]) -> None:
    for grant in grants:
        consent.mark_grant_revoked(lab.store, grant)


def test_a_victim_linked_1300_times_still_signs_in_to_online_banking(
        run_attack: Any, attack_lab: RunningLab) -> None:
    crowd = _crowd(attack_lab, LINKS)
    try:
        outcome = run_attack(ATTACK, "legacy", throwaway=False)
    finally:
        _withdraw(attack_lab, crowd)
    assert outcome.status == "succeeded", story(outcome)
    assert any("signs in to his online banking" in s.text for s in outcome.steps)


def test_a_matrix_run_starts_with_no_links_earlier_runs_left(attack_lab: RunningLab) -> None:
    crowd = _crowd(attack_lab, 2)
    configuration = runner.Configuration("legacy")
    try:
        runner.apply(attack_lab.store, configuration, ATTACK)
        assert {g["id"] for g in consent.grants_of(attack_lab.store, "alice")} >= set(crowd)
        runner.apply(attack_lab.store, configuration, ATTACK, throwaway=True)
        assert consent.grants_of(attack_lab.store, "alice") == []
    finally:
        _withdraw(attack_lab, crowd)
