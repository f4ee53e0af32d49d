"""The lab's TPP (FinLens) as a FAPI 2.0 client of an outside, certified OP: panva's oidc-provider.

op.mjs runs oidc-provider with its FAPI 2.0 profile: PAR required, PKCE S256, DPoP,
private_key_jwt only, `iss` in the response. FinLens is registered there statically
(client_id "tpp", its public JWKS, its callback), the way a bank's developer portal would.
Next to the OP runs a small account API that takes only DPoP-bound tokens with a valid
proof. FinLens gets the OP as a new institution, a real Chromium links it, signs in at
oidc-provider's own pages and consents, and FinLens shows the outside account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab import keys
from lab.serving.in_process import RunningLab
from lab.tpp import institutions
from tests.interop.flows import sign_in_at_outside_op, start_outside_op, wait_for_url
from tests.interop.harness import BrowserThread, Node, NodeProcess

pytestmark = pytest.mark.browser

INSTITUTION = "outsidebank"


def _static_client(lab: RunningLab) -> dict[str, Any]:
    public = keys.public_jwks(keys.ensure_keyset(lab.config.keys_dir, "tpp"))
    return {
        "client_id": "tpp",
        "client_name": "FinLens",
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": public,
        "redirect_uris": [lab.config.tpp_url + "/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "dpop_bound_access_tokens": True,
        "id_token_signed_response_alg": "ES256",
    }


def _forget_institution(lab: RunningLab) -> None:
    remove = getattr(institutions, "remove_institution", None)
    if remove is not None:
        remove(lab.store, INSTITUTION)
    else:
        lab.store.execute("DELETE FROM tpp_institutions WHERE id = ?", (INSTITUTION,))
    institutions.forget_metadata()


def _link_in_browser(page: Any, lab: RunningLab, issuer: str, op: NodeProcess,
                     shots: Path) -> dict[str, Any]:
    """A person links OutsideBank in FinLens; returns what the dashboard then shows."""
    page.goto(lab.config.tpp_url + "/")
    page.get_by_test_id("link-accounts").click()
    page.screenshot(path=shots / "01-tpp-institutions.png", full_page=True)
    page.get_by_test_id(f"link-institution-{INSTITUTION}").click()

    wait_for_url(page, issuer + "/**", op)
    sign_in_at_outside_op(page, shots, "02", login="outside-user")

    wait_for_url(page, lab.config.tpp_url + "/dashboard**", op)
    page.screenshot(path=shots / "03-tpp-dashboard.png", full_page=True)
    link = page.locator(f"section[data-testid=link][data-institution={INSTITUTION}]")
    rows = link.locator("[data-testid=account-row]")
    return {
        "status": link.get_attribute("data-status"),
        "subject": link.get_by_test_id("link-subject").inner_text(),
        "accounts": rows.evaluate_all("rows => rows.map(r => r.dataset.accountId)"),
        "balances": rows.get_by_test_id("account-balance").evaluate_all(
            "cells => cells.map(c => c.dataset.amount)"),
        "transactions": page.locator("[data-testid=transaction-row]").all_inner_texts(),
    }


def test_finlens_links_an_account_at_oidc_provider(
        lab: RunningLab, controls: Any, node: Node, browser_thread: BrowserThread,
        shots: Path, tmp_path: Path) -> None:
    controls.profile("fapi2-security")
    op, ready = start_outside_op(node, lab, tmp_path, _static_client(lab))
    institutions.add_institution(lab.store, INSTITUTION, "OutsideBank (oidc-provider)",
                                 ready["issuer"], ready["api_base"], client_id="tpp",
                                 ca_path=str(lab.config.ca_cert_path))
    try:
        shown = browser_thread.run(
            lambda page: _link_in_browser(page, lab, ready["issuer"], op, shots))
    finally:
        _forget_institution(lab)

    assert shown["status"] == "active", shown
    assert shown["subject"] == "outside-user"
    assert shown["accounts"] == ["op-acc-1"]
    assert shown["balances"] == ["1234.56"]
    assert sum("OutsideBank" in row for row in shown["transactions"]) == 3, shown

    # What oidc-provider and its API saw FinLens do: PAR with private_key_jwt,
    # DPoP-bound tokens, and API calls that all passed the DPoP proof checks.
    said = op.drain()
    assert [m["client_auth"] for m in said if m["event"] == "par"] == ["private_key_jwt"]
    assert {m["dpop_bound"] for m in said if m["event"] == "access_token"} == {True}
    calls = [m for m in said if m["event"] == "api"]
    assert {c["path"].rsplit("/", 1)[-1] for c in calls} == \
        {"accounts", "balances", "transactions"}, calls
    assert all(c["status"] == 200 for c in calls), calls
