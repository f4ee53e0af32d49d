"""discovery-issuer-mismatch: EvilBank's discovery document names the honest bank's issuer.

The OpenID conformance suite's client test "discovery issuer mismatch" as an attack (A1a).
FinLens fetches EvilBank's metadata from EvilBank's own well-known URL; the document claims
the honest bank's `issuer`, keeps EvilBank's token endpoint, and its jwks_uri serves the
honest bank's public keys beside EvilBank's own (its ID tokens name the honest issuer too,
which OIDC §3.1.3.7 step 2 compares with the issuer "obtained during Discovery"). EvilBank
forwards the lured victim's authorization request to the honest AS (as in mix-up), the
victim consents at his own bank, and the honest response comes back naming the honest issuer
— the issuer FinLens now expects (RFC 9207 §2: the response's iss is "identical to the ...
metadata value issuer"), signed, under JARM, with the keys the lying document points to.
FinLens redeems the honest code (with its verifier) at EvilBank, and the attacker injects it
in its own FinLens session. RFC 8414 §3.3 / OIDC Discovery §4.3: the metadata's issuer MUST
be identical to the URL it was fetched from, "If these values are not identical, the data
contained in the response MUST NOT be used" — part of tpp_checks_iss here. jarm does not stop
FinLens from sending the code to EvilBank (it checks the signed response against the issuer
and keys the lying document names); it stops the injection, which has no signed response.
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
    honest = forge.as_metadata(ctx)
    jarm_only = serves_only_jwt(honest)
    fx.evil_plan(mode="mixup", issuer=honest.get("issuer"),
                 extra_jwks=forge.as_public_keys(ctx, honest),
                 forward_extra={"response_mode": "jwt"} if jarm_only else None)
    ctx.step("attacker", "EvilBank's discovery document now names the honest bank's issuer "
             f"({honest.get('issuer')}), with EvilBank's own token endpoint and a jwks_uri "
             "serving the honest bank's public keys beside its own; its authorization "
             "endpoint forwards requests to the honest AS with FinLens's client_id"
             + (" and response_mode=jwt" if jarm_only else ""))
    code_sent_to_evilbank(ctx, fx, since)


ATTACK = Attack(
    id="discovery-issuer-mismatch", attacker="A1a", legs=("evil_as",), victim="live",
    title="Attacker's AS claims the honest bank's issuer in its discovery document",
    blocked_by=("tpp_checks_iss", "par_required", "jar_required", "pkce_required",
                "tpp_checks_nonce", "jarm"),
    premise="Runs EvilBank, listed in FinLens's directory; serves a discovery document naming "
            "the honest bank's issuer (and its public keys); the lured victim links EvilBank.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("RFC 8414 §3.3", "OIDC Discovery §4.3", "RFC 9207 §2", "BCP §4.4",
          "OpenID conformance suite: discovery issuer mismatch"),
    not_alone={"pkce_required": PKCE_ALONE},
)
