"""The lab clock moves what the lab issues (codes, tokens, SMS codes), never a phone's TOTP.

An authenticator app counts real time; checking its codes at lab time would lock every
participant out after `fapi-lab clock advance`. And an attack or scenario run on the
user's lab puts the clock back where the user left it.
"""

from __future__ import annotations

import time

import pyotp

from attacker import runner
from lab import clock
from lab.domain import customers
from lab.serving.in_process import RunningLab

ALICE = next(u for u in customers.DEMO_USERS if u.username == "alice")


def test_an_authenticator_code_still_works_after_the_clock_moves(lab: RunningLab) -> None:
    totp = pyotp.TOTP(ALICE.totp_secret or "")
    clock.advance(lab.store, 20 * 60)
    try:
        assert customers.check_totp(lab.store, "alice", totp.at(time.time()))
        assert not customers.check_totp(lab.store, "alice", totp.at(time.time() + 20 * 60))
        assert customers.totp_now(ALICE.totp_secret or "") == totp.at(time.time())
    finally:
        clock.reset(lab.store)


def test_an_attack_run_puts_the_users_clock_offset_back(lab: RunningLab) -> None:
    """Before: SavedState.restore reset the clock, so `scenario run` silently undid an advance."""
    clock.advance(lab.store, 600)
    try:
        saved = runner.SavedState(lab.store)
        clock.reset(lab.store)  # what every attack run does before and after itself
        saved.restore()
        assert clock.offset(lab.store) == 600
    finally:
        clock.reset(lab.store)
