"""The attack catalog (attacks.md §3): one module per attack, each defining `ATTACK`.

An attack module holds everything about its attack: the catalog row (title, attacker type,
the controls expected to block it), its premise, the legs it reads, its references, and its
run. So `grep -rl '"<control_id>"' attacker/attacks/` finds every attack a control blocks.
An attack whose mechanism the lab does not have yet is a `Pending` entry in its own module,
with the reason, never faked; implementing it turns that entry into an `Attack`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from attacker.attack_context import AttackContext

VictimMode = Literal["live", "prior", "none"]
State = Literal["implemented", "pending"]
LEGS = ("authz_request", "authz_response", "par", "token", "userinfo", "revocation",
        "introspection", "resource", "tpp_ui", "evil_as", "store", "own")

# The catalog's order (attacks.md §3, sections A-H): listings, docs and the matrix follow it.
ORDER: tuple[str, ...] = (
    "at-replay-bearer",
    "at-replay-own-dpop-key",
    "at-replay-own-client-cert",
    "at-replay-late",
    "token-wrong-audience",
    "cuckoos-token",
    "dpop-proof-replay",
    "dpop-proof-retarget",
    "dpop-stale-proof",
    "dpop-pregenerated-proof",
    "payment-replay-altered-body",
    "refresh-token-replay",
    "client-impersonation-leaked-secret",
    "client-assertion-replay",
    "client-assertion-audience-injection",
    "client-assertion-made-ahead",
    "code-replay",
    "code-redeem-own-client",
    "code-redeem-other-dpop-key",
    "id-token-replay-login",
    "code-injection",
    "code-injection-late",
    "auth-response-leak-referer",
    "csrf-redirect-endpoint",
    "login-csrf",
    "mix-up",
    "discovery-issuer-mismatch",
    "browser-swapping",
    "id-token-wrong-audience",
    "pkce-downgrade",
    "pkce-plain-leak",
    "pkce-chosen-challenge",
    "authz-request-scope-tampering",
    "redirect-uri-manipulation",
    "open-redirector-leak",
    "unsigned-request-object",
    "request-object-replay",
    "request-uri-replay-csrf",
    "jwt-alg-none",
    "jwt-hs256-key-confusion",
    "jwt-embedded-key",
    "jwt-expired",
    "forged-token-retired-as-key",
    "consent-bypass-unconsented-account",
    "scope-escalation-at-refresh",
    "payment-tampering-after-consent",
    "payment-without-step-up",
    "refresh-after-revocation",
    "consent-amendment-old-tokens",
    "access-token-after-revocation",
    "token-use-new-location",
    "credential-stuffing",
    "password-only-login",
    "otp-brute-force",
    "otp-phishing-relay",
    "ropc-mfa-bypass",
    "audit-log-tampering",
    "user-correlation-across-apps",
)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One catalog row: what the attack is and which controls are expected to block it.

    blocked_by: the catalog's expected blockers (attacks.md §3), any one of which stops it;
    expected, not measured: the matrix compares them with the controls that fire.
    Sender constraints (dpop_bound_tokens, mtls_bound_tokens) also block every replay of a
    captured token from the attacker's own client; attacks.md leaves that implied.
    """

    id: str
    title: str
    attacker: str
    blocked_by: tuple[str, ...]
    refs: tuple[str, ...] = ()

    @property
    def state(self) -> State:
        return "implemented" if isinstance(self, Attack) else "pending"

    @property
    def source(self) -> str:
        return f"attacker/attacks/{self.id.replace('-', '_')}.py"


@dataclass(frozen=True, kw_only=True)
class Pending(Entry):
    """A catalog attack the lab cannot run yet; `reason` names the missing mechanism."""

    reason: str


LIMITS_ONLY = "limits, does not stop"

# The bank's payment checks, measured to stop any attack whose goal is a payment to mallory
# with a token the victim never meant for one: one wording for every such attack.
PAYMENT_GOAL_BLOCKERS: dict[str, str] = {
    "step_up_for_payments":
        "the payment needs a strong authentication (acr) at most 300 s old; the "
        "attacker's token carries none that fresh, so the bank answers "
        "insufficient_user_authentication (measured)",
    "payment_consent_binding":
        "no payment consent (RAR authorization_details) covers the attacker's payment, so "
        "the bank refuses it (measured)",
}


@dataclass(frozen=True, kw_only=True)
class Attack(Entry):
    """One runnable catalog attack: who attacks, what it may read, and its run.

    legs: the capture legs its attacker type reads (attacks.md §1); "own" = its own traffic.
    grants: what the premise hands over beyond those legs (a leaked secret, TPP keys, ...).
    needs: TPP settings the attack needs (attacks.md §0), applied over the profile.
    fapi2_blocks: False where the catalog says FAPI 2.0 does not stop it, with `why_not`.
    counts_prevented: preventive controls whose `prevented` event is what stops this attack
    (elsewhere they are incidental: every F2 callback records one).
    not_alone: catalog blockers that do not block this attack when switched on alone over
    `legacy`, each with the reason (shown as an explained mismatch in the matrix). A reason
    that starts with LIMITS_ONLY says the control narrows the attack in every profile but
    never stops it (docs/attacks.md leaves it out of "where FAPI 2.0 does not block").
    also_blocked_by: controls the catalog does not name that measurably block this attack too,
    each with the reason (the matrix expects them and shows the difference as explained).
    open_in: profiles other than fapi2-security (there: fapi2_blocks) where the catalog
    blockers that profile switches on do not stop this attack, each with the reason (measured;
    the matrix expects it to succeed there and shows the reason).
    """

    legs: tuple[str, ...]
    victim: VictimMode
    premise: str
    goal: str
    run: Callable[[AttackContext], Any]
    needs: dict[str, str] = field(default_factory=dict)
    grants: tuple[str, ...] = ()
    fapi2_blocks: bool = True
    why_not: str = ""
    counts_prevented: tuple[str, ...] = ()
    not_alone: dict[str, str] = field(default_factory=dict)
    also_blocked_by: dict[str, str] = field(default_factory=dict)
    open_in: dict[str, str] = field(default_factory=dict)
