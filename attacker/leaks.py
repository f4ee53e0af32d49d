"""Named leaks a premise grants beyond its capture legs (attacks.md §1: "a set of legs plus
explicit grants").

attacker.insider hands out everything FinLens holds, and only to the TPP insider
(`store` leg or the `tpp_store` grant). A narrower leak gets a narrower reader here, so
an attack that was granted one secret cannot read the rest of FinLens's disk.
"""

from __future__ import annotations

import json

from .attack_context import AttackContext
from .outcome import AttackSetupError, PremiseViolation

LEAKED_TPP_SECRET = "leaked_tpp_secret"
TPP_CREDENTIALS_FILE = ("secrets", "tpp-client.json")


def tpp_secret(ctx: AttackContext) -> tuple[str, str]:
    """(client_id, client_secret) of FinLens, as found in an old configuration backup.

    client-impersonation-leaked-secret's premise: the secret leaked 40 days ago (BCP §2.5,
    RFC 7591 §3.2.1). Without the grant this is a bug in the attack, never a shortcut.
    """
    if LEAKED_TPP_SECRET not in ctx.attack.grants:
        raise PremiseViolation(f"{ctx.attack.id}: the premise grants no leaked FinLens secret")
    path = ctx.config.data_dir.joinpath(*TPP_CREDENTIALS_FILE)
    try:
        data = json.loads(path.read_text())
        client_id, secret = str(data["client_id"]), str(data["client_secret"])
    except (OSError, ValueError, KeyError):
        raise AttackSetupError("FinLens has no client secret to leak") from None
    ctx.step("attacker", "finds FinLens's client_id and client_secret in an old configuration "
             "backup (leaked 40 days ago)")
    return client_id, secret


def tpp_secret_issued_at(ctx: AttackContext) -> float | None:
    """When the leaked secret was issued (lab clock), as the same backup records it; None for
    a backup without it. FinLens rotates its secret (lab/tpp/secret_rotation.py), so the one
    in the backup may have been issued at any lab time, even one a past run moved ahead to."""
    if LEAKED_TPP_SECRET not in ctx.attack.grants:
        raise PremiseViolation(f"{ctx.attack.id}: the premise grants no leaked FinLens secret")
    try:
        data = json.loads(ctx.config.data_dir.joinpath(*TPP_CREDENTIALS_FILE).read_text())
        return float(data["client_secret_issued_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


LEAKED_TPP_USER_RECORDS = "leaked_tpp_user_records"


def tpp_user_records(ctx: AttackContext) -> list[dict[str, str]]:
    """FinLens's table of bank identities — (issuer, sub, FinLens user) per person who signed
    in with her bank (lab/tpp/identities.py) — as a breach of FinLens's database would leak
    it; nothing else of FinLens's store."""
    if LEAKED_TPP_USER_RECORDS not in ctx.attack.grants:
        raise PremiseViolation(f"{ctx.attack.id}: the premise grants no leak of FinLens's users")
    rows = ctx.store.query("SELECT issuer, subject, user_id FROM tpp_identities")
    ctx.step("attacker", f"reads FinLens's leaked user records: {len(rows)} bank identities")
    return [{"issuer": str(r["issuer"]), "sub": str(r["subject"]), "user": str(r["user_id"])}
            for r in rows]
