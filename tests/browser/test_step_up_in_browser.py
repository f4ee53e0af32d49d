"""Step-up in a real headless Chromium (issue 15): alice links FinLens with payments, three
lab days pass, FinLens's 25.00 EUR payment meets the bank's RFC 9470 challenge, alice signs
in again with her second factor at HonestBank, and the payment goes through, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab import clock
from lab.controls import events
from lab.domain import customers, ledger
from lab.serving.in_process import RunningLab
from tests.support.tpp_fapi import restored_tpp_settings

pytestmark = pytest.mark.browser

ALICE = next(u for u in customers.DEMO_USERS if u.username == "alice")
THREE_DAYS = 3 * 24 * 3600


def _sign_in(page: Any, shots: Path, prefix: str) -> None:
    page.fill("#username", ALICE.username)
    page.fill("#password", ALICE.password)
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("form[data-step=mfa]")   # acr_values=sca / mfa_required
    page.fill("#code", customers.totp_now(ALICE.totp_secret or ""))
    page.screenshot(path=shots / f"{prefix}-second-factor.png", full_page=True)
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("form[data-step=consent]")
    page.screenshot(path=shots / f"{prefix}-consent.png", full_page=True)
    page.locator("button[value=approve]").click()


def test_a_payment_three_days_later_steps_up_in_the_browser(
        lab: RunningLab, controls: Any, page: Any, shots: Path) -> None:
    config = lab.config
    controls.profile("fapi2-security")
    controls.set(step_up_for_payments=True)
    checking = ledger.account_id("alice", "checking")
    with restored_tpp_settings(lab) as tpp:
        tpp.set(payments="on")
        page.goto(config.tpp_url + "/")
        page.get_by_test_id("link-accounts").click()
        page.get_by_test_id("link-institution-honestbank").click()
        page.wait_for_url(config.as_url + "/**")
        _sign_in(page, shots, "01-link")
        page.wait_for_url(config.tpp_url + "/dashboard**")
        link_id = page.locator("section[data-testid=link]").first.get_attribute("data-link-id")

        clock.advance(lab.store, THREE_DAYS)
        before = ledger.balance_cents(lab.store, checking)
        page.goto(f"{config.tpp_url}/links/{link_id}/pay")
        page.get_by_test_id("pay-account").select_option(checking)
        assert page.get_by_test_id("pay-creditor").inner_text() == "Corner Café"
        page.screenshot(path=shots / "02-pay-form.png", full_page=True)
        page.get_by_test_id("pay-submit").click()

        # the bank's challenge sent alice back to HonestBank's sign-in (through PAR)
        page.wait_for_url(config.as_url + "/**")
        assert "request_uri=" in page.url
        fired = [e for e in events.list_events(lab.store) if e.control == "step_up_for_payments"]
        assert fired and ledger.balance_cents(lab.store, checking) == before
        page.screenshot(path=shots / "03-step-up-sign-in.png", full_page=True)
        _sign_in(page, shots, "04-step-up")

        page.wait_for_url(config.tpp_url + "/dashboard**")
        page.screenshot(path=shots / "05-paid.png", full_page=True)
        assert "Payment sent: 25.00 EUR to Corner Café" in page.content()
        assert ledger.balance_cents(lab.store, checking) == before - 2500
