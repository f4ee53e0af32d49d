"""FinLens "Sign in with your bank" in a real headless Chromium (issue 15): alice clicks
"Sign in with HonestBank" under fapi2-security (PAR, PKCE, private_key_jwt, DPoP behind
FinLens), signs in at the bank with her password and TOTP, approves, and FinLens shows she
is signed in as herself: the ID token's sub at HonestBank's issuer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.serving.in_process import RunningLab
from tests.browser.test_link_and_revoke_in_browser import _sign_in_at

pytestmark = pytest.mark.browser


def test_alice_signs_in_to_finlens_with_honestbank(
        lab: RunningLab, controls: Any, page: Any, shots: Path) -> None:
    controls.profile("fapi2-security")
    config = lab.config
    page.goto(config.tpp_url + "/")
    page.get_by_test_id("signin-bank-honestbank").click()
    page.wait_for_url(config.as_url + "/**")
    _sign_in_at(page, lab, shots, "signin-as")
    consent = page.locator("button[value=approve]")
    if consent.count():
        page.screenshot(path=shots / "signin-consent.png", full_page=True)
        consent.click()
    page.wait_for_url(config.tpp_url + "/dashboard")
    page.screenshot(path=shots / "signin-dashboard.png", full_page=True)
    identity = page.get_by_test_id("bank-identity")
    assert identity.get_attribute("data-subject") == "alice"
    assert identity.get_attribute("data-issuer") == config.issuer
    assert page.get_by_test_id("current-user").inner_text().startswith("alice@honestbank")
    assert "Signed in with HonestBank as alice" in page.content()
