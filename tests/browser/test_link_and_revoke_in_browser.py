"""The lab core's user story in a real headless Chromium, click by click.

A person opens FinLens, links HonestBank, signs in as alice with her password and
TOTP, shares two of her four accounts, and sees exactly those accounts with their
balances. At the bank she revokes FinLens, and FinLens can no longer read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.domain import customers, ledger
from lab.domain.consent import grants_of
from lab.serving.in_process import RunningLab

pytestmark = pytest.mark.browser

ALICE = next(u for u in customers.DEMO_USERS if u.username == "alice")
SHARED = ("checking", "credit_card")


def _sign_in_at(page: Any, lab: RunningLab, shots: Path, prefix: str) -> None:
    page.fill("#username", ALICE.username)
    page.fill("#password", ALICE.password)
    page.screenshot(path=shots / f"{prefix}-login.png", full_page=True)
    page.locator("button[type=submit]").first.click()
    page.fill("#code", customers.totp_now(ALICE.totp_secret or ""))
    page.screenshot(path=shots / f"{prefix}-second-factor.png", full_page=True)
    page.locator("button[type=submit]").first.click()


def test_alice_links_two_accounts_sees_them_and_revokes_at_the_bank(
        lab: RunningLab, controls: Any, page: Any, shots: Path) -> None:
    controls.profile("fapi2-security")
    link_two_accounts_then_revoke(lab, page, shots)


def link_two_accounts_then_revoke(lab: RunningLab, page: Any, shots: Path) -> None:
    """The whole story, click by click; asserts what a person would check on screen."""
    config = lab.config
    accounts = {a["type"]: a for a in ledger.accounts_of(lab.store, "alice")}

    page.goto(config.tpp_url + "/")
    page.screenshot(path=shots / "01-tpp-home.png", full_page=True)
    page.get_by_test_id("link-accounts").click()
    page.get_by_test_id("link-institution-honestbank").click()

    page.wait_for_url(config.as_url + "/**")
    _sign_in_at(page, lab, shots, "02-as")

    page.wait_for_selector("form[data-step=consent]")
    for type_, account in accounts.items():
        box = page.locator(f"input[name=account][value='{account['id']}']")
        box.set_checked(type_ in SHARED)
    page.screenshot(path=shots / "03-as-consent.png", full_page=True)
    page.locator("button[value=approve]").click()

    page.wait_for_url(config.tpp_url + "/dashboard**")
    page.screenshot(path=shots / "04-tpp-dashboard.png", full_page=True)
    rows = page.locator("[data-testid=account-row]")
    shown = set(rows.evaluate_all("rows => rows.map(r => r.dataset.accountId)"))
    assert shown == {accounts[t]["id"] for t in SHARED}
    for type_ in SHARED:
        row = page.locator(f"[data-testid=account-row][data-account-id='{accounts[type_]['id']}']")
        amount = row.get_by_test_id("account-balance").get_attribute("data-amount")
        expected = ledger.money(ledger.balance_cents(lab.store, accounts[type_]["id"]))["amount"]
        assert amount == expected, f"{type_}: TPP shows {amount}, bank has {expected}"
    assert page.locator("[data-testid=transaction-row]").count() > 0
    link = page.locator("section[data-testid=link]")
    assert link.get_attribute("data-status") == "active"

    newest_grant = grants_of(lab.store, "alice")[0]
    assert set(newest_grant["accounts"]) == {accounts[t]["id"] for t in SHARED}

    page.goto(config.bank_url + "/connected-apps")
    _sign_in_at(page, lab, shots, "05-bank")
    page.wait_for_url(config.bank_url + "/connected-apps**")
    page.screenshot(path=shots / "06-bank-connected-apps.png", full_page=True)
    page.locator(f"form:has(input[name=grant_id][value='{newest_grant['id']}']) button").click()
    page.wait_for_load_state()
    page.screenshot(path=shots / "07-bank-after-revoke.png", full_page=True)
    assert newest_grant["id"] not in {g["id"] for g in grants_of(lab.store, "alice")}

    page.goto(config.tpp_url + "/dashboard")
    page.screenshot(path=shots / "08-tpp-after-revoke.png", full_page=True)
    assert page.locator("section[data-testid=link]").get_attribute("data-status") == "revoked"
    assert page.locator("[data-testid=account-row]").count() == 0
