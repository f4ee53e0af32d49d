"""The harness checked without the lab in the protocol path: openid-client against oidc-provider.

Both are OpenID-certified and by the same author, so they agree on FAPI 2.0 (DCR with
private_key_jwt, PAR, PKCE S256, DPoP, `iss`). When this passes and a lab interop test
fails, the difference is in the lab. Only the lab's CA and Chromium are shared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.ports import free_loopback_port as free_port
from lab.serving.in_process import RunningLab
from tests.interop.flows import (
    callback_catcher,
    catch_callback,
    sign_in_at_outside_op,
    start_outside_op,
)
from tests.interop.harness import BrowserThread, Node

pytestmark = pytest.mark.browser


def test_openid_client_and_oidc_provider_agree(lab: RunningLab, node: Node,
                                               browser_thread: BrowserThread, shots: Path,
                                               tmp_path: Path) -> None:
    _op, ready = start_outside_op(node, lab, tmp_path, registration=True)
    redirect_uri = f"https://127.0.0.1:{free_port()}/self-check/cb"
    rp = node.start("rp.mjs", json.dumps({
        "issuer": ready["issuer"], "redirect_uri": redirect_uri, "scope": "openid accounts:read",
        "resource_url": ready["api_base"] + "/accounts"}))
    rp.expect("registered", timeout=30)
    url = rp.expect("authorization_url", timeout=30)["url"]
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}

    def in_browser(page: Any) -> str:
        callback_catcher(page, redirect_uri)
        page.goto(url)
        return catch_callback(page, redirect_uri, lambda: sign_in_at_outside_op(
            page, shots, "01", login="self-check-user"))

    callback = browser_thread.run(in_browser)
    assert "iss" in parse_qs(urlsplit(callback).query)
    rp.send({"callback": callback})

    tokens = rp.expect("tokens", timeout=30)
    assert tokens["token_type"].lower() == "dpop"
    resource = rp.expect("resource", timeout=30)
    assert resource["status"] == 200, resource
    assert [a["account_id"] for a in resource["body"]["accounts"]] == ["op-acc-1"]
    rp.expect("done", timeout=10)
