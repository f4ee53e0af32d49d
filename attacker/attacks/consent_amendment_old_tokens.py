"""consent-amendment-old-tokens: the victim narrows her consent; the old tokens still work.

Alice linked FinLens with her checking and savings accounts. She links again, ticks only
checking, and on HonestBank's consent page ticks "this changes the access FinLens already
has": the new consent replaces the old one, whose grant is withdrawn (the consent
amendment of the OpenID conformance suite's negatives, issue 17; the Australian CDR's
"revoked and amended in an atomic step", `cdr_arrangement_id`). A FinLens insider kept a
copy of the refresh token of the old consent: it refreshes and reads the savings account
alice no longer shares. RFC 7009 §2.1 / FAPI2 §6.8: tokens of a withdrawn grant end with
it — revocation_cascade, the same control as refresh-after-revocation.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.outcome import AttackSetupError
from attacker.premises import linked_victim
from lab.authserver.clients import TPP_CLIENT_ID
from lab.domain import ledger, payment_consents

KEPT, DROPPED = "checking", "savings"


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    dropped = {a["id"] for a in ledger.accounts_of(ctx.store, victim.username)
               if a["type"] == DROPPED}
    tpp = ts.tpp_identity(ctx, victim)
    held = tpp.tokens
    if not held.refresh_token:
        ctx.failed("FinLens holds no refresh token for the victim")
    agent = getattr(victim, "agent", None)
    if agent is None or not hasattr(agent, "amend"):
        raise AttackSetupError("this victim cannot amend a consent (no HTTP user agent)")
    before = _active_grants(ctx, victim.username)
    agent.accounts, agent.amend = (KEPT,), True
    victim.link()
    if not before or _active_grants(ctx, victim.username) & before:
        # the verdict must not rest on an amendment that did not happen
        raise AttackSetupError("the victim's new consent did not replace the old one")
    ctx.step("victim", f"links again with her {KEPT} account only and ticks \"this changes "
                       f"the access FinLens already has\": her {DROPPED} account is no longer "
                       f"shared, the old consent is withdrawn")
    response = tpp.refresh(held.refresh_token, what="POST /token grant_type=refresh_token "
                           "as FinLens, with the refresh token of the amended consent")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the refresh of the old consent")
    balances = ts.read_balances(ctx, tokens, signer=tpp.signer, http=tpp.http)
    read = sorted(set(balances) & dropped)
    if not read:
        ctx.failed(f"the old consent's tokens no longer reach the {DROPPED} account")
    ctx.succeeded(f"read the {DROPPED} balance the victim stopped sharing, with the old "
                  f"consent's refresh token", {a: balances[a] for a in read})


def _active_grants(ctx: AttackContext, username: str) -> set[str]:
    """Her account grants to FinLens, as the AS counts what an amendment replaces: a payment
    consent an earlier attack left her (single use, never amended) is not one of them."""
    return {g["id"] for g in payment_consents.account_grants(ctx.store, username,
                                                             TPP_CLIENT_ID)}


ATTACK = Attack(
    id="consent-amendment-old-tokens", attacker="MT", legs=("store",), victim="prior",
    title="Tokens of an amended consent still used",
    blocked_by=("revocation_cascade",),
    premise="A FinLens insider with a copy of its database, keys and credentials; the victim "
            "has since amended her consent to FinLens (fewer accounts), replacing the old one.",
    goal="the balance of an account the victim removed from her consent", run=run,
    refs=("RFC 7009 §2.1", "FAPI2 §6.8", "CDS (AU) consent amendment"),
    also_blocked_by={
        "at_revocation_check":
            "the refreshed access token belongs to the withdrawn grant, and the bank checks "
            "revocation at use (FAPI2 §5.3.4)",
    },
)
