"""A real headless Chromium (Debian's), driven by Playwright, trusting only the lab's certificate.

Chromium is told the SPKI hash of the lab's server certificate, so TLS stays real:
no blanket `ignore_https_errors`, and nothing but the lab's key is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lab import pki
from lab.serving.in_process import RunningLab

CHROMIUM = "/usr/bin/chromium"


def spki_hash(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="session")
def browser(lab: RunningLab) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./fapi-lab test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    server = pki.server_cert(lab.config.pki_dir, lab.config.host)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  f"--ignore-certificate-errors-spki-list={spki_hash(server.cert)}"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """Where a browser test saves its screenshots (kept for people to look at)."""
    root = Path(os.environ.get("FAPI_LAB_TEST_OUTPUT", "test-output"))
    out = root / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    return out
