"""Attacks with the real-browser victim (`fapi-lab attack ID --browser`, the demo mode).

The victim is Debian's headless Chromium (attacker.browser_victim): it signs in to FinLens,
links HonestBank through the AS's real pages, runs FinLens's scripts and renders its
dashboard. The attack, the capture and the judge are the ones the fast HTTP victim uses,
so the outcomes must be the same: succeeded under legacy, blocked under fapi2-security.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from attacker import lookup, runner
from attacker.browser_launch import BrowserVictimFactory, spki_pin
from attacker.browser_victim import BrowserVictim
from attacker.outcome import Outcome
from lab import pki
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from tests.attacks.conftest import story
from tests.browser.conftest import spki_hash

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FRONT_CHANNEL = ("tpp_ui", "authz_request", "authz_response")
Run = Callable[[str, str], tuple[Outcome, list[BrowserVictim]]]


@pytest.fixture(scope="module")
def capture_lab(lab: RunningLab, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[RunningLab]:
    """A lab behind mitmproxy, as attacks need (tests/attacks/conftest.py's attack_lab). It
    shares the session lab's CA and server key, so the session's Chromium trusts it."""
    config = private_config(tmp_path_factory.mktemp("browser-attack-lab"))
    shutil.copytree(lab.config.pki_dir, config.pki_dir)
    running = start(config, profile="legacy", write_state=False, capture=True)
    yield running
    running.stop()


@pytest.fixture
def run_in_browser(browser: Any, capture_lab: RunningLab, shots: Path) -> Iterator[Run]:
    """run(attack_id, profile) → (outcome, the browser victims of that run)."""
    factory = BrowserVictimFactory(shots, browser=browser)
    saved = runner.SavedState(capture_lab.store)

    def _run(attack_id: str, profile: str) -> tuple[Outcome, list[BrowserVictim]]:
        first = len(factory.victims)
        outcome = runner.run(lookup.get(attack_id), capture_lab.config, capture_lab.store,
                             runner.Configuration(profile), victim_factory=factory)
        return outcome, factory.victims[first:]

    yield _run
    factory.close()
    saved.restore()


def _captured(lab: RunningLab, request_ids: list[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(request_ids))
    rows = lab.store.query(f"SELECT leg, method, url, status, request_headers, "
                           f"response_headers, request_id FROM captures "
                           f"WHERE request_id IN ({marks})", tuple(request_ids))
    return [dict(row) for row in rows]


def _user_agent(row: dict[str, Any]) -> str:
    return next((v for k, v in json.loads(row["request_headers"]) if k.lower() == "user-agent"),
                "")


def _assert_came_from_chromium(lab: RunningLab, victim: BrowserVictim, outcome: Outcome
                               ) -> list[dict[str, Any]]:
    """Every front-channel request of the victim's went through the front door, sent by
    Chromium. (FinLens's back-channel calls made while serving them carry the same request
    id, so the token and resource legs show up here too, sent by FinLens.)"""
    ids = victim.ctx.victim_request_ids
    assert ids, story(outcome)
    assert len(ids) == len(set(ids))
    rows = _captured(lab, ids)
    assert rows, f"none of the victim's {len(ids)} request ids were captured"
    front = {(r["leg"], _user_agent(r)) for r in rows if r["leg"] in FRONT_CHANNEL}
    assert front and all("HeadlessChrome/" in agent for _, agent in front), sorted(front)
    return rows


def _victim_texts(outcome: Outcome) -> list[str]:
    return [s.text for s in outcome.steps if s.actor == "victim"]


def test_the_factory_pins_the_same_key_as_the_browser_tests(lab: RunningLab) -> None:
    assert spki_pin(lab.config) == spki_hash(pki.server_cert(lab.config.pki_dir,
                                                              lab.config.host).cert)


@pytest.mark.parametrize(("profile", "expected"), [("legacy", "succeeded"),
                                                   ("fapi2-security", "blocked")])
def test_at_replay_bearer_with_the_browser_victim(run_in_browser: Run, capture_lab: RunningLab,
                                                  profile: str, expected: str) -> None:
    outcome, victims = run_in_browser("at-replay-bearer", profile)
    assert outcome.status == expected, story(outcome)
    assert len(victims) == 1
    victim = victims[0]
    texts = _victim_texts(outcome)
    # The browser's own steps, not HttpVictim's one-liner.
    assert f"signs in at the AS as {victim.username}" in texts, texts
    assert "shares checking + savings and approves" in texts, texts
    if profile == "fapi2-security":
        assert "enters his one-time code (SCA)" in texts, texts
    dashboard = next(s for s in outcome.steps if s.text == "opens the FinLens dashboard")
    assert dashboard.status == 200
    # The dashboard rendered in Chromium with the linked HonestBank accounts.
    page = victim.page
    assert page.url == capture_lab.config.tpp_url + "/dashboard"
    assert page.get_by_test_id("current-user").inner_text() == victim.tpp_user
    assert page.locator("[data-testid=account-row]").count() >= 2
    assert page.locator("section[data-testid=link]").first.get_attribute(
        "data-status") == "active"
    rows = _assert_came_from_chromium(capture_lab, victim, outcome)
    legs = {r["leg"] for r in rows}
    assert {"tpp_ui", "authz_request", "authz_response"} <= legs, legs
    if expected == "blocked":
        assert "dpop_bound_tokens" in outcome.fired_controls, story(outcome)


@pytest.mark.parametrize(("profile", "expected"), [("legacy", "succeeded"),
                                                   ("fapi2-security", "blocked")])
def test_csrf_redirect_endpoint_with_the_browser_victim(
        run_in_browser: Run, capture_lab: RunningLab, profile: str, expected: str) -> None:
    """A live attack: the victim's browser is lured to FinLens's callback with mallory's code;
    under legacy the interstitial's script redeems it in the victim's session."""
    outcome, victims = run_in_browser("csrf-redirect-endpoint", profile)
    assert outcome.status == expected, story(outcome)
    victim = victims[0]
    page = victim.page
    if expected == "succeeded":
        assert page.url == capture_lab.config.tpp_url + "/dashboard"
        shown = page.locator("[data-testid=account-row]").evaluate_all(
            "rows => rows.map(r => r.dataset.accountId)")
        assert set(shown) == set(outcome.stolen["accounts"])
    else:
        # a live attack: the victim's browser delivered what the attacker shaped (a lure)
        assert outcome.status == "blocked" and outcome.fired_controls, story(outcome)
        assert page.get_by_test_id("error").count() == 1   # FinLens's error page, on screen
        assert outcome.refusal and outcome.refusal["status"] == 400
    rows = _assert_came_from_chromium(capture_lab, victim, outcome)
    tpp_callback = capture_lab.config.tpp_url + "/callback"
    assert any(r["url"].startswith(tpp_callback) for r in rows), rows


def test_a_closed_tab_leaves_the_code_at_the_as(run_in_browser: Run,
                                                capture_lab: RunningLab) -> None:
    """link(stop="response"): the AS answered (captured), FinLens never got the callback."""
    outcome, victims = run_in_browser("code-redeem-own-client", "legacy")
    assert outcome.status == "succeeded", story(outcome)
    rows = _assert_came_from_chromium(capture_lab, victims[0], outcome)
    answers = [r for r in rows if r["leg"] == "authz_response"
               and "code=" in dict(json.loads(r["response_headers"] or "[]")).get(
                   "Location", "")]
    assert answers, rows
    location = dict(json.loads(answers[-1]["response_headers"]))["Location"]
    code = location.split("code=", 1)[1].split("&", 1)[0]
    delivered = capture_lab.store.query("SELECT id FROM captures WHERE url LIKE ?",
                                        (f"{capture_lab.config.tpp_url}/callback%{code}%",))
    assert not delivered, "the closed tab still delivered the code to FinLens"


def test_the_cli_runs_an_attack_with_the_browser_victim(capture_lab: RunningLab) -> None:
    """`fapi-lab attack at-replay-bearer --browser`, attached to the capture lab (free ports,
    as `fapi-lab up` would leave running.json): its own Chromium, launched and closed."""
    config = capture_lab.config
    before = _capture_count(capture_lab)
    config.state_file.write_text(json.dumps({**capture_lab.status(), "started_at": time.time()}))
    try:
        done = subprocess.run([sys.executable, "-m", "lab.cli", "attack", "at-replay-bearer",
                               "--data-dir", str(config.data_dir), "--profile", "legacy",
                               "--browser", "--json"],
                              cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    finally:
        config.state_file.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded", done.stdout[-2000:]
    texts = [s["text"] for s in result["steps"] if s["actor"] == "victim"]
    assert "signs in at the AS as alice" in texts, texts
    assert "opens the FinLens dashboard" in texts, texts
    assert _capture_count(capture_lab) > before   # it ran against this lab, through capture


def _capture_count(lab: RunningLab) -> int:
    row = lab.store.query_one("SELECT COUNT(*) AS n FROM captures")
    return int(row["n"]) if row else 0


# Attacks that once stopped with "drives the victim's HTTP session directly" (or had no
# browser step for what they need): the bank's Connected apps page, an extension rewriting
# the authorization request, a page whose images carry the Referer, "Sign in with your bank"
# and a lured sign-in callback. victim: whose flow the victim's requests are in the judge's
# eyes ("prior": its own sign-in, link and revocation are its own flow; "live": all lured).
PARITY = {"access-token-after-revocation": "prior", "refresh-after-revocation": "prior",
          "authz-request-scope-tampering": "live", "auth-response-leak-referer": "live",
          "id-token-replay-login": "prior", "login-csrf": "live",
          "id-token-wrong-audience": "live"}
REVOKES = ("access-token-after-revocation", "refresh-after-revocation")


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
@pytest.mark.parametrize("attack_id", list(PARITY))
def test_the_browser_victim_reaches_the_http_victims_verdict(
        run_in_browser: Run, capture_lab: RunningLab, attack_id: str, profile: str) -> None:
    """Same attack, same profile: Chromium's verdict is the HTTP victim's, and neither is
    an error; who sent each counted refusal (attacker, lured, own flow) agrees too."""
    http = runner.run(lookup.get(attack_id), capture_lab.config, capture_lab.store,
                      runner.Configuration(profile))
    outcome, victims = run_in_browser(attack_id, profile)
    expected = "succeeded" if profile == "legacy" else "blocked"
    assert http.status == expected, story(http)
    assert outcome.status == http.status, story(outcome)
    assert outcome.summary == http.summary, (story(http), story(outcome))
    assert outcome.fired_controls == http.fired_controls, (story(http), story(outcome))
    victim = victims[0]
    _assert_came_from_chromium(capture_lab, victim, outcome)
    own = victim.ctx.own_flow_request_ids
    if attack_id in REVOKES:
        texts = _victim_texts(outcome)
        assert "signs in to his online banking" in texts, texts
        assert any(t.startswith("revokes tpp") for t in texts), texts
        assert own and set(own) <= set(victim.ctx.victim_request_ids)
        bank = capture_lab.config.bank_url + "/connected-apps/revoke"
        revoked = [r for r in _captured(capture_lab, own) if r["url"] == bank]
        assert revoked, "the revocation in Chromium is not the victim's own flow"
    elif PARITY[attack_id] == "prior":
        _assert_signed_in_with_the_bank(capture_lab, victim, outcome)
    else:
        assert not own, "a live attack's victim requests are all lured"
    for event in outcome.events:
        if event.counted and event.kind == "fired":
            assert event.by != "victim", story(outcome)


def _assert_signed_in_with_the_bank(lab: RunningLab, victim: BrowserVictim,
                                    outcome: Outcome) -> None:
    """His "Sign in with HonestBank" ran in Chromium as his own flow: the button, the AS's
    pages and FinLens's sign-in callback (the hybrid fragment page's post under legacy)."""
    texts = _victim_texts(outcome)
    assert "clicks \"Sign in with honestbank\" at FinLens" in texts, texts
    assert f"signs in at the bank as {victim.username}" in texts, texts
    own = victim.ctx.own_flow_request_ids
    assert own and set(own) <= set(victim.ctx.victim_request_ids)
    callback = lab.config.tpp_url + "/signin/callback"
    assert any(r["url"].startswith(callback) for r in _captured(lab, own)), \
        "the sign-in callback in Chromium is not the victim's own flow"


@pytest.mark.parametrize(("profile", "expected"), [("legacy", "succeeded"),
                                                   ("fapi2-security", "blocked")])
def test_a_consent_amendment_in_chromium(run_in_browser: Run, capture_lab: RunningLab,
                                         profile: str, expected: str) -> None:
    """The victim's Chromium ticks "this changes the access it already has" on the AS's
    consent page: the old consent is withdrawn either way; only its tokens' fate differs."""
    outcome, victims = run_in_browser("consent-amendment-old-tokens", profile)
    assert outcome.status == expected, story(outcome)
    assert len(victims) == 1
    if expected == "blocked":
        assert "revocation_cascade" in outcome.fired_controls, story(outcome)
