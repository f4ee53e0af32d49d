"""Debian's headless Chromium for the browser victim, trusting the lab's server key only.

TLS stays real: Chromium is told the SPKI hash of the lab's server key and nothing else
(never a blanket ignore_https_errors), as tests/browser/conftest.py does.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab import pki
from lab.config import LabConfig

from .browser_tab import BrowserVictimError
from .browser_victim import BrowserVictim

if TYPE_CHECKING:
    from .attack_context import AttackContext

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
SHOTS_ENV = "FAPI_LAB_SHOTS"


def spki_pin(config: LabConfig) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the lab's server certificate (Chromium's
    --ignore-certificate-errors-spki-list format: accept this key, and only it)."""
    cert = x509.load_pem_x509_certificate(
        pki.server_cert(config.pki_dir, config.host).cert.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


class BrowserVictimFactory:
    """`factory(ctx, username, **options)` → a BrowserVictim in a fresh browser context.

    One Chromium is launched on first use, pinned to the first lab's server key. Pass
    `browser` to reuse one already running (a test session's; the caller then owns it —
    the sync Playwright API allows one instance per thread). `shots` (or $FAPI_LAB_SHOTS)
    names a directory for step-by-step screenshots, for demos.
    """

    def __init__(self, shots: str | Path | None = None, *, browser: Any = None,
                 headless: bool = True) -> None:
        shots = shots or os.environ.get(SHOTS_ENV) or None
        self.shots = Path(shots) if shots else None
        self.headless = headless
        self._browser = browser
        self._owns_browser = browser is None
        self._playwright: Any = None
        self._pin: str | None = None
        self._contexts: list[Any] = []
        self._shot_numbers = itertools.count(1)
        self.victims: list[BrowserVictim] = []

    def __call__(self, ctx: AttackContext, username: str = "alice",
                 **options: Any) -> BrowserVictim:
        context = self._launch(ctx.config).new_context()
        self._contexts.append(context)
        victim = BrowserVictim(ctx, username, context=context, shots=self.shots,
                               shot_numbers=self._shot_numbers, **options)
        self.victims.append(victim)
        return victim

    def _launch(self, config: LabConfig) -> Any:
        pin = spki_pin(config)
        if self._browser is not None:
            if self._owns_browser and pin != self._pin:
                raise BrowserVictimError("this browser trusts another lab's server key; use "
                                         "one BrowserVictimFactory per lab")
            return self._browser
        if not Path(CHROMIUM).exists():
            raise BrowserVictimError(f"{CHROMIUM} is missing (apt-get install chromium)")
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=self.headless,
                args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"])
        except Exception as exc:
            self._playwright.stop()
            self._playwright = None
            raise BrowserVictimError(f"could not launch {CHROMIUM}: {exc}") from exc
        self._pin = pin
        return self._browser

    def close(self) -> None:
        """Close every context, and the browser and Playwright if this factory started them."""
        for context in self._contexts:
            with contextlib.suppress(Exception):   # already gone with the browser
                context.close()
        self._contexts.clear()
        if self._owns_browser and self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def __enter__(self) -> BrowserVictimFactory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

