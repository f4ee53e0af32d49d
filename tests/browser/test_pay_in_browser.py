"""FinLens "Pay" in a real headless Chromium under fapi2-security.

alice links HonestBank, opens Pay on the link, enters 25.00 EUR to Corner Café, and at
HonestBank (password, TOTP) sees that payment in plain words — amount, payee, IBAN,
reference — and the account it leaves; she confirms; FinLens submits it once and shows
it booked. Her checking account's balance moves by exactly 25.00.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.domain import ledger
from lab.serving.in_process import RunningLab
from lab.tpp import pay
from tests.browser.test_link_and_revoke_in_browser import _sign_in_at

pytestmark = pytest.mark.browser


def test_alice_pays_the_cafe_from_finlens(lab: RunningLab, controls: Any, page: Any,
                                          shots: Path) -> None:
    controls.profile("fapi2-security")
    config = lab.config
    checking = ledger.account_id("alice", "checking")
    cafe = pay.PAYEES["corner-cafe"]

    page.goto(config.tpp_url + "/")
    page.get_by_test_id("link-accounts").click()
    page.get_by_test_id("link-institution-honestbank").click()
    page.wait_for_url(config.as_url + "/**")
    _sign_in_at(page, lab, shots, "pay-01-link")
    page.wait_for_selector("form[data-step=consent]")
    page.locator("button[value=approve]").click()
    page.wait_for_url(config.tpp_url + "/dashboard**")

    before = ledger.balance_cents(lab.store, checking)
    page.locator("section[data-testid=link][data-status=active]").first \
        .get_by_test_id("pay").click()
    page.get_by_test_id("pay-amount").fill("25.00")
    page.screenshot(path=shots / "pay-02-finlens-pay.png", full_page=True)
    page.get_by_test_id("pay-submit").click()

    page.wait_for_url(config.as_url + "/**")
    _sign_in_at(page, lab, shots, "pay-03-as")
    page.wait_for_selector("[data-payment]")
    page.screenshot(path=shots / "pay-04-as-payment-consent.png", full_page=True)
    assert page.locator("[data-amount]").inner_text() == "25.00 EUR"
    assert page.locator("[data-payee]").inner_text() == "Corner Café"
    assert page.locator("[data-iban]").inner_text() == cafe.iban
    assert page.locator(f"input[name=debtor_account][value='{checking}']").is_checked()
    page.locator("button[value=approve]").click()

    page.wait_for_url(config.tpp_url + "/payments/**")
    page.screenshot(path=shots / "pay-05-finlens-status.png", full_page=True)
    assert page.get_by_test_id("payment").get_attribute("data-status") == "booked"
    assert page.get_by_test_id("payment-amount").inner_text() == "25.00 EUR"
    assert ledger.balance_cents(lab.store, checking) == before - 2500
