"""The dashboard in a real Chromium against a running lab: flip a control, rerun an attack.

What a workshop does on the wall: switch exact_redirect_uri off on the Controls page, run
redirect-uri-manipulation on the Attacks page and see it succeed, switch the control back
on, rerun it and see it blocked with that control named. Every page is photographed, and
the browser must never reach beyond 127.0.0.1 (the dashboard runs offline).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from dashboard import launch
from lab.controls.registry import Registry
from lab.ports import free_loopback_port as free_port
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config

pytestmark = pytest.mark.browser

CONTROL, ATTACK = "exact_redirect_uri", "redirect-uri-manipulation"
RUN_TIMEOUT = 120_000
PAGES = ("workshop", "controls", "attacks", "matrix", "tokens", "events", "audit", "load")


@pytest.fixture(scope="module")
def dashboard_lab(lab: RunningLab, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[RunningLab, str]]:
    """A capture lab as `fapi-lab up` runs it (running.json written) and its dashboard."""
    config = private_config(tmp_path_factory.mktemp("dashboard-lab"))
    shutil.copytree(lab.config.pki_dir, config.pki_dir)
    running = start(config, profile="legacy", write_state=True, capture=True)
    process = None
    try:
        process = launch.start(config.data_dir, port=free_port(),
                               log=config.data_dir / "dashboard.log")
        running.set_dashboard(process.url)
        yield running, process.url
    finally:
        if process is not None:
            process.stop()
        running.stop()


@pytest.fixture
def screen(browser: Any, dashboard_lab: tuple[RunningLab, str]) -> Iterator[tuple[Any, list[str]]]:
    # Streamlit scrolls inside its own container, so a tall window is what shows a whole page.
    context = browser.new_context(viewport={"width": 1400, "height": 3200})
    page = context.new_page()
    page.set_default_timeout(60_000)
    outside: list[str] = []

    def watch(request: Any) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
            outside.append(request.url)

    page.on("request", watch)
    yield page, outside
    context.close()


def _open(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/{name}")
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_load_state("networkidle")


def _toggle(page: Any, url: str, on: bool) -> None:
    _open(page, url, "controls")
    switch = page.locator(f".st-key-ctl_{CONTROL} input[role=switch]")
    switch.wait_for(state="attached")
    if switch.is_checked() != on:
        page.locator(f".st-key-ctl_{CONTROL} label").first.click()
    page.get_by_text(f"{CONTROL} switched {'on' if on else 'off'}").wait_for()


def _run_attack(page: Any, url: str, verdict: str) -> str:
    """Run ATTACK from the Attacks page; the outcome's text once it shows `verdict` (Streamlit
    draws the box's caption before its verdict, so reading at first sight can miss it)."""
    _open(page, url, "attacks")
    box = page.locator(".st-key-attack_pick input[role=combobox]")
    box.click()
    box.fill(ATTACK)
    page.get_by_role("option", name=re.compile(f"^{re.escape(ATTACK)} ")).click()
    page.wait_for_function(
        f"document.querySelector('.st-key-attack_pick input').value.startsWith('{ATTACK}')")
    page.locator(".st-key-attack_run button").click()
    outcome = page.locator(".st-key-attack_outcome")
    outcome.wait_for(timeout=RUN_TIMEOUT)
    with contextlib.suppress(Exception):   # never showed: the caller's assertion says what did
        outcome.filter(has_text=re.compile(verdict, re.IGNORECASE)).wait_for(timeout=RUN_TIMEOUT)
    return str(outcome.inner_text())


def test_flip_a_control_and_rerun_the_attack(screen: tuple[Any, list[str]],
                                             dashboard_lab: tuple[RunningLab, str],
                                             shots: Path) -> None:
    page, outside = screen
    lab, url = dashboard_lab
    registry = Registry(lab.store)
    registry.apply_profile("legacy")
    registry.set({CONTROL: True})

    _toggle(page, url, on=False)
    assert not registry.is_on(CONTROL)
    page.screenshot(path=shots / "01-controls-switched-off.png", full_page=False)
    told = _run_attack(page, url, "succeeded")
    assert "succeeded" in told.lower(), told
    page.screenshot(path=shots / "02-attack-succeeded.png", full_page=True)

    _toggle(page, url, on=True)
    assert registry.is_on(CONTROL)
    told = _run_attack(page, url, "blocked")
    assert "blocked" in told.lower() and CONTROL in told, told
    page.screenshot(path=shots / "03-attack-blocked.png", full_page=True)
    assert not outside, outside


def test_every_page_renders_offline(screen: tuple[Any, list[str]],
                                    dashboard_lab: tuple[RunningLab, str], shots: Path) -> None:
    page, outside = screen
    _, url = dashboard_lab
    for number, name in enumerate(PAGES, start=1):
        _open(page, url, name)
        assert not page.locator('[data-testid="stException"]').count(), name
        page.screenshot(path=shots / f"{number:02d}-{name}.png", full_page=True)
    assert not outside, outside


ENABLED_TIMEOUT = 15_000   # ms: a rerun in progress, never a button greyed for good


def _settled(page: Any) -> None:
    """Streamlit has finished rerunning the page (its status widget says "Running" until)."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=RUN_TIMEOUT)


def _press(page: Any, key: str) -> None:
    _settled(page)
    button = page.locator(f".st-key-{key} button").first
    button.wait_for()
    # Streamlit redraws the page after each press; a button greyed for good fails here
    expect(button, f"{key} is greyed out").to_be_enabled(timeout=ENABLED_TIMEOUT)
    button.click()


def test_workshop_progress_survives_a_reload(screen: tuple[Any, list[str]],
                                             dashboard_lab: tuple[RunningLab, str],
                                             shots: Path) -> None:
    """Steps 1 and 2 of exercise 1, a reload, then step 3: the page goes on where it was."""
    page, outside = screen
    lab, url = dashboard_lab
    registry = Registry(lab.store)
    _open(page, url, "")     # the workshop is the dashboard's main page
    _press(page, "workshop_setup")
    page.get_by_text("The lab now runs the").wait_for()
    _press(page, "workshop_run")
    page.get_by_text("The attack worked").wait_for(timeout=RUN_TIMEOUT)

    page.reload()   # a new browser session: Streamlit's session state is gone
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    _settled(page)
    page.get_by_text("The attack worked").wait_for()          # step 2 is still done
    for key in ("workshop_run", "workshop_check"):
        expect(page.locator(f".st-key-{key} button").first,
               f"{key} is greyed out after the reload").to_be_enabled(timeout=ENABLED_TIMEOUT)
    page.screenshot(path=shots / "01-after-reload.png", full_page=True)

    registry.set({CONTROL: True})       # step 3, as the Controls page does it
    _press(page, "workshop_check")
    page.get_by_text("Solved: Exact redirect URI refused the attack.").wait_for(
        timeout=RUN_TIMEOUT)
    page.screenshot(path=shots / "02-solved.png", full_page=True)
    registry.apply_profile("legacy")
    assert not outside, outside


def test_the_audit_page_shows_where_the_trail_breaks(browser: Any,
                                                     dashboard_lab: tuple[RunningLab, str],
                                                     shots: Path) -> None:
    """On a projector's 1280×720: one record edited behind the lab's back, and the page says
    which, in its first screen, with the record marked in the table."""
    lab, url = dashboard_lab
    registry = Registry(lab.store)
    registry.apply_profile("legacy")
    registry.set({"audit_chain": True})
    for on in (True, False, True):
        registry.set({"pkce_required": on})
    seq = int(lab.store.query_one("SELECT MAX(seq) AS s FROM audit_log")["s"]) - 1
    original = lab.store.query_one("SELECT data FROM audit_log WHERE seq = ?", (seq,))["data"]
    lab.store.execute("UPDATE audit_log SET data = '{}' WHERE seq = ?", (seq,))
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        _open(page, url, "audit")
        headline = page.get_by_text(f"The trail breaks at record #{seq}.")
        headline.wait_for()
        assert headline.bounding_box()["y"] < 720   # in the first screen, no scrolling
        page.get_by_text("✗ breaks here").first.wait_for()
        page.screenshot(path=shots / "audit-broken-1280x720.png")
        page.set_viewport_size({"width": 1280, "height": 2000})   # Streamlit scrolls inside
        page.wait_for_timeout(500)
        page.screenshot(path=shots / "audit-broken-whole.png")
    finally:
        context.close()
        lab.store.execute("UPDATE audit_log SET data = ? WHERE seq = ?", (original, seq))
        registry.apply_profile("legacy")
