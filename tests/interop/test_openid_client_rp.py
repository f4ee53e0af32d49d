"""The lab's AS and bank as a certified FAPI 2.0 client sees them: panva's openid-client v6.

openid-client (in Node, rp.mjs) registers itself through the lab's DCR endpoint with
private_key_jwt and its own key, pushes the authorization request (PAR) with PKCE S256 and
a DPoP proof, and hands back an authorization URL carrying only client_id and request_uri.
A real Chromium signs alice in (password + TOTP) and approves two accounts; the redirect to
openid-client's callback (an https loopback URL nothing listens on) is caught in the
browser and handed to Node, which checks `iss`, redeems the code with DPoP, and reads
GET {bank}/accounts with DPoP. Every check on the way is openid-client's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.controls import events as lab_events
from lab.domain import customers, ledger
from lab.ports import free_loopback_port as free_port
from lab.serving.in_process import RunningLab
from tests.interop.flows import callback_catcher, catch_callback, require_fapi2_metadata
from tests.interop.harness import BrowserThread, Node

pytestmark = pytest.mark.browser

ALICE = next(u for u in customers.DEMO_USERS if u.username == "alice")
SHARED = ("checking", "savings")


def _alice_signs_in_and_approves(page: Any, lab: RunningLab, shots: Path,
                                 share: set[str]) -> None:
    page.wait_for_selector("#username")
    page.fill("#username", ALICE.username)
    page.fill("#password", ALICE.password)
    page.screenshot(path=shots / "01-as-login.png", full_page=True)
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("#code")
    page.fill("#code", customers.totp_now(ALICE.totp_secret or ""))
    page.screenshot(path=shots / "02-as-second-factor.png", full_page=True)
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("form[data-step=consent]")
    for box in page.locator("input[name=account]").all():
        box.set_checked(box.get_attribute("value") in share)
    page.screenshot(path=shots / "03-as-consent.png", full_page=True)
    page.locator("button[value=approve]").click()


# +extras adds DPoP nonces (RFC 9449 §8, §9) at the AS and the bank: openid-client answers
# use_dpop_nonce by itself, as FAPI2 §5.3.3 asks of clients.
@pytest.mark.parametrize("profile", ["fapi2-security", "fapi2-security+extras"])
def test_openid_client_registers_pushes_and_reads_alices_accounts_with_dpop(
        lab: RunningLab, controls: Any, node: Node, browser_thread: BrowserThread,
        shots: Path, profile: str) -> None:
    controls.profile(profile)
    require_fapi2_metadata(lab)
    newest = lab_events.list_events(lab.store, limit=1)
    since = (newest[-1].id or 0) if newest else 0
    accounts = {a["type"]: a["id"] for a in ledger.accounts_of(lab.store, "alice")}
    share = {accounts[t] for t in SHARED}
    redirect_uri = f"https://127.0.0.1:{free_port()}/openid-client/cb"

    rp = node.start("rp.mjs", json.dumps({
        "issuer": lab.config.issuer, "redirect_uri": redirect_uri,
        "scope": "openid accounts:read", "resource_url": lab.config.bank_url + "/accounts"}))
    registered = rp.expect("registered", timeout=30)
    assert registered["token_endpoint_auth_method"] == "private_key_jwt"
    url = rp.expect("authorization_url", timeout=30)["url"]
    # FAPI2 §5.3.3: only client_id and the PAR request_uri go through the front channel.
    assert url.startswith(lab.config.issuer + "/")
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}

    def in_browser(page: Any) -> str:
        callback_catcher(page, redirect_uri)
        page.goto(url)
        caught = catch_callback(page, redirect_uri,
                                lambda: _alice_signs_in_and_approves(page, lab, shots, share))
        page.screenshot(path=shots / "04-callback.png", full_page=True)
        return caught

    callback = browser_thread.run(in_browser)
    rp.send({"callback": callback})

    tokens = rp.expect("tokens", timeout=30)
    assert tokens["token_type"].lower() == "dpop"
    # RFC 9449 §6.1: the lab's JWT access token is bound to openid-client's DPoP key.
    assert tokens["access_token_cnf"] == {"jkt": tokens["dpop_jkt"]}, tokens
    resource = rp.expect("resource", timeout=30)
    assert resource["status"] == 200, resource
    assert {a["account_id"] for a in resource["body"]["accounts"]} == share

    if tokens["refresh_token"]:
        refreshed = rp.expect("refreshed", timeout=30)
        assert refreshed["token_type"].lower() == "dpop"
        assert refreshed["resource_status"] == 200
        # FAPI2 §5.3.2.1: no refresh token rotation (except in extraordinary circumstances).
        assert refreshed["rotated"] is False
        revoked = rp.expect("revoked", timeout=30)
        assert revoked["refresh_after_revocation"] == {"refused": True, "error": "invalid_grant"}
    rp.expect("done", timeout=10)

    # No lab control refused openid-client, except the DPoP nonce challenges of +extras,
    # which it answered by itself at the AS and at the bank.
    fired = [e for e in lab_events.list_events(lab.store, since_id=since) if e.kind == "fired"]
    if profile.endswith("+extras"):
        assert {e.control for e in fired} == {"dpop_nonce"}, fired
        assert {e.component for e in fired} == {"as", "bank"}, fired
    else:
        assert fired == [], fired
