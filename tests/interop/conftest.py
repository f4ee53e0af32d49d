"""Fixtures for the interop tests: Node helpers (see harness.py) and a real Chromium.

The outside implementations (panva's openid-client and oidc-provider, both OpenID-certified)
live in tests/interop/node_modules, installed from package-lock.json by `./fapi-lab test`
(`npm ci --prefix tests/interop`). A missing node, npm or node_modules is a test failure with
the command that fixes it, never a skip.
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
from tests.interop.harness import BrowserThread, Node, node_toolchain

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def node(lab: RunningLab) -> Iterator[Node]:
    nodes = Node(node_toolchain(), lab.config.ca_cert_path)
    try:
        yield nodes
    finally:
        nodes.stop_all()


# ---- a real Chromium that trusts only the lab's server key ---------------------------------

def spki_hash(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="session")
def interop_chromium(lab: RunningLab, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[BrowserThread]:
    """One Chromium on its own thread for the session's interop tests (see BrowserThread)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./fapi-lab test installs Debian's chromium",
                    pytrace=False)
    server = pki.server_cert(lab.config.pki_dir, lab.config.host)
    browser = BrowserThread(CHROMIUM, spki_hash(server.cert), tmp_path_factory.mktemp("shots"))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_thread(interop_chromium: BrowserThread, shots: Path) -> BrowserThread:
    """Chromium on its own thread, in a new context for this test:
    `browser_thread.run(lambda page: ...)`."""
    interop_chromium.fresh(shots)
    return interop_chromium


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("FAPI_LAB_TEST_OUTPUT", "test-output"))
    out = root / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    return out
