"""The tamper-evident audit trail's control (attacks.md §2.7, `audit_chain`)."""

from __future__ import annotations

from .model import Control, Refusal

AUDIT_CONTROLS: tuple[Control, ...] = (
    Control(
        "audit_chain", "Tamper-evident audit",
        "Every authentication, consent, token issuance, refresh, revocation, payment, control "
        "change and control-fired event is a record in a hash chain (each record holds the "
        "previous record's SHA-256 over RFC 8785 canonical JSON); signed head checkpoints "
        "(ES256, the lab's audit key) are appended to a file outside the store; the verifier "
        "(`fapi-lab audit verify`) names the first record that breaks the chain or a "
        "checkpoint.",
        ("store",), Refusal(None, "audit_chain_broken", "verify fails at the first bad record"),
        "MS §5.2; HTTPSig (privacy considerations)",
        "Whoever can write the database can rewrite history: edit the payment that moved the "
        "money, delete the records after it. A hash chain makes an edit visible at the next "
        "record, but someone who re-hashes from the edit on, or cuts the tail, leaves a chain "
        "that is consistent with itself. Checkpoints signed with a key the database writer "
        "does not hold, kept outside the database, pin the head: a rewritten or shortened "
        "chain no longer matches them.",
        params={"checkpoint_every": 1},
        off_behaviour="Records are still written (the trail exists), but without hashes or "
                      "checkpoints, and the verifier does not check them: an edited, deleted "
                      "or truncated trail verifies as intact.",
    ),
)
