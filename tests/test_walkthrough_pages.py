"""What a newcomer tripped over walking through the lab's pages (issue 14): each page says
what it does, the same bank looks the same, and every line on the consent page can be said no to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from lab.authserver import consent_flow, pages
from lab.protocol import resources
from lab.serving.in_process import RunningLab
from lab.tpp import institutions
from lab.tpp.driver import TppBrowser, link, user_agent
from tests.support.bank_tokens import account, ensure_bank_knows_as_keys, mint
from tests.test_bank_connected_apps import _csrf, sign_in

README = Path(__file__).resolve().parents[1] / "README.md"


def _render(template: str, **values: Any) -> str:
    with Flask(__name__).app_context():
        return pages.page("t", template, **values)


def test_the_code_page_links_the_sms_inbox_once() -> None:
    html = _render(pages.MFA, hint="We sent a code", action="/mfa", pending="p", sms=True,
                   sms_url="/lab/sms", message="")
    assert html.count("SMS inbox") == 1, html


def _boxes(html: str) -> list[tuple[str, bool]]:
    return [(m.group(1), "checked" in m.group(0))
            for m in re.finditer(r'<input type="checkbox" name="([^"]+)"[^>]*>', html)]


def test_consent_boxes_start_alike_and_every_extra_line_can_be_refused() -> None:
    html = _render(pages.CONSENT, client_name="FinLens", username="alice", action="/consent",
                   pending="p", message="",
                   accounts=[{"id": "a1", "type": "checking", "name": "Checking",
                              "iban": "X", "currency": "EUR"}],
                   permissions=[("balances", "See the balance")],
                   identity=[], extras=[("rewards", "Let PartnerRewards read your points")])
    boxes = _boxes(html)
    account_box = [checked for name, checked in boxes if name == "account"]
    perm_boxes = [checked for name, checked in boxes if name.startswith("perm:")]
    assert account_box and perm_boxes and set(account_box) == set(perm_boxes), boxes
    assert ("share", True) in boxes, "the PartnerRewards line has no box to untick"


class _Pending:
    def __init__(self, scope: str, username: str) -> None:
        self.scope, self.username, self.client_id = scope, username, "tpp"

    def param(self, name: str) -> str | None:
        return self.scope if name == "scope" else None


def test_an_unticked_extra_line_is_not_granted(lab: RunningLab) -> None:
    resources.register(lab.store, "https://127.0.0.1:1/partner", name="PartnerRewards",
                       scope="rewards")
    pending: Any = _Pending("openid accounts:read rewards", "alice")
    checking = account("alice", "checking")
    unticked = consent_flow.decide(lab.store, pending, "openid accounts:read rewards", [checking],
                               {checking: ["balances"]}, shared=[])
    ticked = consent_flow.decide(lab.store, pending, "openid accounts:read rewards", [checking],
                                  {checking: ["balances"]}, shared=["rewards"])
    assert unticked is not None and "rewards" not in unticked.scope.split()
    assert ticked is not None and "rewards" in ticked.scope.split()


@pytest.mark.parametrize("origin", ["as_url", "bank_url", "tpp_url"])
def test_every_origin_serves_its_own_favicon(lab: RunningLab, http: requests.Session,
                                             origin: str) -> None:
    answer = http.get(getattr(lab.config, origin) + "/favicon.ico", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/")


def test_online_banking_and_the_as_sign_in_share_one_look(lab: RunningLab,
                                                          http: requests.Session) -> None:
    bank = http.get(lab.config.bank_url + "/login", timeout=10).text
    as_page = _render(pages.LOGIN, client_name="FinLens", action="/login", pending="p",
                      username="", message="")

    def style(html: str) -> str:
        found = re.search(r"<style>(.*?)</style>", html, re.S)
        return found.group(1).strip() if found else ""

    assert style(bank) and style(bank) == style(as_page)


def test_the_chooser_and_the_readme_explain_evilbank_and_partnerrewards(
        lab: RunningLab) -> None:
    institutions.add(lab.store, institutions.Institution(
        "evilbank", "EvilBank", "https://127.0.0.1:1", "https://127.0.0.1:1"), position=20)
    institutions.add(lab.store, institutions.Institution(
        "partnerrewards", "PartnerRewards", lab.config.issuer, "https://127.0.0.1:2"),
        position=30)
    try:
        b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
        page = b.http.get(lab.config.tpp_url + "/link", timeout=10).text
    finally:
        lab.store.execute("DELETE FROM tpp_institutions WHERE id IN "
                          "('evilbank', 'partnerrewards')")
    notes = {m.group(1): m.group(2) for m in re.finditer(
        r'data-institution-id="([^"]+)".*?<p class="note[^"]*"[^>]*>(.*?)</p>', page, re.S)}
    assert "attacker" in notes.get("evilbank", ""), notes
    assert "HonestBank" in notes.get("partnerrewards", ""), notes
    readme = README.read_text()
    assert "EvilBank" in readme and "PartnerRewards" in readme


def test_finlens_says_linking_unsigned_makes_a_guest(lab: RunningLab) -> None:
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    for path in ("/", "/link"):
        assert "guest" in b.http.get(lab.config.tpp_url + path, timeout=10).text, path


def test_finlens_names_account_types_in_words(lab: RunningLab, controls: Any) -> None:
    controls.profile("fapi2-security")
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in("carol-types")
    link(b, user_agent(lab.config, lab.store, "alice", accounts=("credit_card",)))
    page = b.http.get(lab.config.tpp_url + "/dashboard", timeout=10).text
    assert "Credit card" in page and ">credit_card<" not in page


def test_two_links_of_one_app_are_told_apart_and_revoking_one_says_the_truth(
        lab: RunningLab, http: requests.Session) -> None:
    ensure_bank_knows_as_keys(lab)
    shared = {account("bob", "checking"): ["balances"]}
    first, second = mint(lab, username="bob", accounts=shared), \
        mint(lab, username="bob", accounts=shared)
    page = sign_in(lab, http, "bob", "canwefixit").text
    cards = re.findall(r'<div class="card">(.*?)</form>', page, re.S)
    texts = [re.sub(r"<[^>]+>|\s+", " ", c) for c in cards
             if f'value="{first.grant_id}"' in c or f'value="{second.grant_id}"' in c]
    assert len(texts) == 2 and texts[0] != texts[1], texts
    answer = http.post(lab.config.bank_url + "/connected-apps/revoke",
                       data={"grant_id": first.grant_id, "csrf_token": _csrf(page)})
    flash = re.search(r'<p class="flash">(.*?)</p>', answer.text, re.S)
    assert flash and "still" in flash.group(1), flash
    assert "can no longer access your accounts" not in answer.text
