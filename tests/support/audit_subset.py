"""Run a few attacks with audit_chain on in a private lab of its own PROCESS, leaving its data
directory behind: tests/attacks/test_audit_trail.py verifies and tampers with copies of it.

Its own process because mitmproxy keeps its master and options in module globals: a second
capture proxy started in the pytest process would take over the first one's TLS settings
(the session's attack lab would then present the other lab's certificates).

    python -m tests.support.audit_subset DATA_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

# Under fapi2-security: some blocked (fired events), a refresh, a payment, a revocation.
SUBSET = ("at-replay-bearer", "code-replay", "refresh-token-replay", "payment-without-step-up",
          "access-token-after-revocation")


def main(data_dir: Path) -> int:
    from attacker import lookup, runner
    from lab.serving.private import private_lab

    with private_lab(profile="legacy", write_state=False, capture=True,
                     data_dir=data_dir) as running:
        for attack_id in SUBSET:
            outcome = runner.run(lookup.get(attack_id), running.config, running.store,
                                 runner.Configuration("fapi2-security", {"audit_chain": True}))
            if outcome.status not in ("succeeded", "blocked"):
                print(f"{attack_id}: {outcome.status}: {outcome.summary}", file=sys.stderr)
                return 1
        running.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
