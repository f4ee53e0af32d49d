"""mix-up: the honest bank's code, sent by FinLens to EvilBank's token endpoint (A1a).

attacks.md §3 D; BCP §4.4. FinLens lists EvilBank; the lured victim clicks "Link
EvilBank". EvilBank forwards the request to the honest AS with FinLens's client_id there
(one redirect URI for all banks), the victim logs in and consents at his own bank, and
FinLens, believing EvilBank answered, redeems the honest code (with its verifier, if
any) at EvilBank. The attacker injects it into its own FinLens session.
RFC 9207 §2.4 (tpp_checks_iss with iss_response_param): the response names the honest
issuer, not EvilBank's; PAR (RFC 9126) makes a forwarded front-channel request useless.
JARM: the honest AS signs the response; FinLens checks it against EvilBank's keys and issuer.
"""

from __future__ import annotations

from attacker import fixtures, forge
from attacker.attack_context import AttackContext, serves_only_jwt
from attacker.attacks import Attack
from attacker.inject import code_sent_to_evilbank
from attacker.outcome import PKCE_ALONE


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    fx.list_evilbank()
    if serves_only_jwt(forge.as_metadata(ctx)):
        # The honest AS requires JARM: EvilBank asks for it, so the forwarded request passes
        # and the honest, signed response reaches FinLens (which then checks who signed it).
        fx.evil_plan(mode="mixup", forward_extra={"response_mode": "jwt"})
        ctx.step("attacker", "sets EvilBank to forward authorization requests to the honest "
                 "AS with FinLens's client_id and response_mode=jwt (the honest AS requires it)")
    else:
        fx.evil_plan(mode="mixup")
        ctx.step("attacker", "sets EvilBank to forward authorization requests to the honest "
                 "AS with FinLens's client_id")
    code_sent_to_evilbank(ctx, fx, since)


ATTACK = Attack(
    id="mix-up", attacker="A1a", legs=("evil_as",), victim="live",
    title="Honest bank's code sent to the attacker's AS",
    blocked_by=("tpp_checks_iss", "par_required", "jar_required", "pkce_required",
                "tpp_checks_nonce", "jarm"),
    premise="Runs EvilBank, listed in FinLens's directory; knows FinLens's client_id and "
            "redirect URI at the honest AS (public); the lured victim links EvilBank.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("BCP §4.4", "RFC 9207 §2.4", "RFC 9126 §1", "F1P2 §8.3.3",
          "OpenID conformance suite: JARM signed by the wrong key"),
    # EvilBank forwards FinLens's own request unaltered: without a challenge it is refused
    not_alone={"pkce_required": PKCE_ALONE},
)
