"""The attacker: the catalog's attacks (../shared/attacks.md §3) run for real against the lab.

Writing an attack (one module in attacker/attacks/, defining ATTACK):

    def run(ctx: AttackContext) -> None:
        victim = premises.linked_victim(ctx)            # the victim acts; capture records legs
        leaked = ctx.capture.last("resource", where=premises.is_accounts_list)
        r = ctx.send("GET", ctx.url("bank", "/accounts"), headers=..., what="...")
        if r.status_code != 200:
            ctx.failed("the bank refused ...", r)      # judged: blocked if a control fired
        ctx.succeeded("read the victim's balances", r.json())

    ATTACK = Attack(id="at-replay-bearer", attacker="A5", legs=("resource",), victim="prior",
                    title="Stolen token replayed as bearer",
                    blocked_by=("dpop_bound_tokens", "mtls_bound_tokens"),   # the catalog's
                    premise="...", goal="...", run=run)

An attack the lab cannot run yet is `ATTACK = Pending(id=..., title=..., attacker=...,
blocked_by=..., reason=...)` in its own module: the catalog row lives there all the same.

Rules (attacks.md §0-§1): read only the legs of `legs` (the capture view refuses others);
use the attacker's own client, keys and certificate (ctx.own_client_auth, ctx.dpop_signer,
ctx.mtls_http) unless the premise grants more (attacker.insider for the TPP insider);
`needs` sets TPP settings over the profile; the lab clock, never sleeps.
"""
