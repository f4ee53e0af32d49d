"""Helpers shared by the interop tests: the outside OP's config, a user at its dev login pages,
and catching the redirect to a callback URL nothing listens on."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from lab import pki
from lab.ports import free_loopback_port as free_port
from lab.serving.in_process import RunningLab
from tests.interop.harness import Node, NodeProcess


def start_outside_op(node: Node, lab: RunningLab, workdir: Path,
                     client: dict[str, Any] | None = None, *,
                     registration: bool = False, **features: Any
                     ) -> tuple[NodeProcess, dict[str, Any]]:
    """oidc-provider on a free loopback port, over TLS with the lab's server certificate.

    features: op.mjs's switches (fapi, jar, jarm, mtls_ca), as its header describes."""
    server = pki.server_cert(lab.config.pki_dir, lab.config.host)
    config = {"host": "127.0.0.1", "port": free_port(), "cert": str(server.cert),
              "key": str(server.key), "client": client, "registration": registration,
              **features}
    path = workdir / "op-config.json"
    path.write_text(json.dumps(config))
    op = node.start("op.mjs", str(path))
    return op, op.expect("ready", timeout=60)


def sign_in_at_outside_op(page: Any, shots: Path, prefix: str, *, login: str,
                          then: Callable[[], None] | None = None) -> None:
    """oidc-provider's devInteractions: any login and password, then "Continue" to consent."""
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any-password")
    page.screenshot(path=shots / f"{prefix}-op-login.png", full_page=True)
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("input[name=prompt][value=consent]", state="attached")
    page.screenshot(path=shots / f"{prefix}-op-consent.png", full_page=True)
    if then is None:
        page.locator("button[type=submit]").first.click()
    else:
        then()


def callback_catcher(page: Any, prefix: str) -> None:
    """Answer navigations to `prefix` in the browser itself (nothing listens there)."""
    page.route(f"{prefix}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<p>callback caught by the test</p>"))


def catch_callback(page: Any, prefix: str, action: Callable[[], None],
                   timeout_ms: int = 20_000) -> str:
    """Run `action` (the click that ends in a redirect to `prefix`) and return that URL."""
    with page.expect_request(lambda r: r.url.startswith(prefix), timeout=timeout_ms) as info:
        action()
    return str(info.value.url)


def require_fapi2_metadata(lab: RunningLab, timeout: float = 10.0) -> dict[str, Any]:
    """The lab AS's discovery document once it advertises what a FAPI 2.0 client needs."""
    url = lab.config.issuer + "/.well-known/openid-configuration"
    deadline = time.monotonic() + timeout
    meta: dict[str, Any] = {}
    missing: list[str] = []
    while time.monotonic() < deadline:
        meta = requests.get(url, verify=str(lab.config.ca_cert_path), timeout=10).json()
        missing = []
        if not meta.get("pushed_authorization_request_endpoint"):
            missing.append("pushed_authorization_request_endpoint")
        if not meta.get("dpop_signing_alg_values_supported"):
            missing.append("dpop_signing_alg_values_supported")
        if "private_key_jwt" not in (meta.get("token_endpoint_auth_methods_supported") or []):
            missing.append("private_key_jwt in token_endpoint_auth_methods_supported")
        if not meta.get("registration_endpoint"):
            missing.append("registration_endpoint")
        if not missing:
            return meta
        time.sleep(0.5)
    pytest.fail(f"the lab AS under fapi2-security does not advertise {', '.join(missing)}:\n"
                + json.dumps(meta, indent=1), pytrace=False)


def wait_for_url(page: Any, pattern: str, *helpers: NodeProcess, timeout_ms: int = 20_000
                 ) -> None:
    """page.wait_for_url, failing with what the browser shows and what the helpers said."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_url(pattern, timeout=timeout_ms)
    except PlaywrightTimeoutError:
        try:
            text = page.inner_text("body", timeout=2_000)[:2_000]
        except PlaywrightTimeoutError:
            text = "(no body)"
        said = "\n".join(f"--- {h.name} stderr ---\n{h.stderr[-4_000:]}" for h in helpers)
        raise AssertionError(f"the browser never reached {pattern}; it is at {page.url}, "
                             f"showing:\n{text}\n{said}") from None
