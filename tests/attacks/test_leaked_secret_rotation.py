"""client-impersonation-leaked-secret while FinLens rotates its own secret (RFC 7592).

FinLens rotates during the attack (its secret is 40 days past its expiry when the victim opens
her dashboard); the leaked secret is the replaced one. Off, the AS does not enforce expiry, so
it still works; on, it is refused as expired and the control's event is the attacker's.
"""

from __future__ import annotations

import json

from attacker.attacks import client_impersonation_leaked_secret as leaked_secret
from lab.tpp import secret_rotation
from tests.attacks.conftest import story


def test_leaked_secret_attack_stays_honest_while_finlens_rotates(run_attack, attack_lab):
    path = attack_lab.config.data_dir.joinpath(*secret_rotation.CREDENTIALS_FILE)
    before = json.loads(path.read_text())["client_secret"]
    off = run_attack(leaked_secret.ATTACK, "legacy")
    assert off.status == "succeeded", story(off)
    assert json.loads(path.read_text())["client_secret"] != before, "FinLens rotated meanwhile"
    on = run_attack(leaked_secret.ATTACK, "legacy", client_secret_rotation=True)
    assert on.status == "blocked", story(on)
    assert "client_secret_rotation" in {e.control for e in on.events if e.counted}
