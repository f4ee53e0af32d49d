"""The lab's AS and bank under signed requests and responses, as panva's openid-client sees them.

Two runs of rp.mjs (openid-client 6, registered by DCR with private_key_jwt and its own key,
alice signing in through a real Chromium), each with a signed request object (JAR, RFC 9101)
and a signed authorization response (JARM, response_mode=jwt) that openid-client verifies
against the AS's jwks_uri before it reads the code:

- message-signing: FAPI 2.0 Message Signing's authorization side (MS §5.3.1, §5.4): the
  request object pushed to PAR with a DPoP proof, DPoP-bound tokens.
- fapi1-advanced: FAPI 1.0 Advanced with code + JARM (F1P2 §5.2.2): the request object by
  value in the URL, no PAR, tokens bound to openid-client's TLS client certificate
  (RFC 8705 §3), mutual TLS on every call, private_key_jwt.

The controls are the profiles' own marks (attacks.md §2): each run uses the profile of that
name once lab/controls/profiles.py has it, and until then switches the same controls on.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography import x509

from lab import pki
from lab.controls import catalog, profiles
from lab.controls import events as lab_events
from lab.domain import ledger
from lab.ports import free_loopback_port as free_port
from lab.serving.in_process import RunningLab
from tests.interop.flows import callback_catcher, catch_callback
from tests.interop.harness import BrowserThread, Node
from tests.interop.test_openid_client_rp import SHARED, _alice_signs_in_and_approves

pytestmark = pytest.mark.browser

# fapi2-message-signing = fapi2-security + these (attacks.md §2.2, MS column).
MESSAGE_SIGNING = ("jar_required", "request_object_lifetime", "jarm")
# The F1 column of attacks.md §2 (✔ and ◐), with mtls_bound_tokens as the sender constraint.
FAPI1_ADVANCED = (
    "jar_required", "request_object_lifetime", "jarm", "exact_redirect_uri",
    "response_type_code_only", "ropc_disabled", "code_single_use", "code_client_binding",
    "private_key_jwt_only", "client_assertion_jti_single_use", "client_assertion_aud_check",
    "refresh_token_client_binding", "refresh_scope_check", "revocation_cascade",
    "short_access_token_lifetime", "token_expiry_check", "at_revocation_check", "aud_check",
    "scope_check", "consent_per_account", "alg_allow_list", "trusted_keys_only",
    "mtls_bound_tokens", "tpp_checks_state", "tpp_checks_nonce", "tpp_id_token_validation",
    "tpp_checks_iss", "tpp_no_open_redirect", "tpp_referrer_policy", "mfa_required",
)
# openid-client signs no HTTP messages (RFC 9421), which MS marks ◐ in the lab.
NOT_IN_OPENID_CLIENT = ("http_message_signing",)


def _switch(controls: Any, run: str) -> None:
    name = "fapi2-message-signing" if run == "message-signing" else "fapi1-advanced"
    if name in profiles.PROFILES:
        controls.profile(name)
        controls.set(**{c: False for c in NOT_IN_OPENID_CLIENT if c in catalog.BY_ID})
        if run != "message-signing":
            controls.set(mtls_bound_tokens=True)   # F1's sender constraint, whatever its mark
    elif run == "message-signing":
        controls.profile("fapi2-security")
        controls.set(**dict.fromkeys(MESSAGE_SIGNING, True))
    else:
        controls.only(*FAPI1_ADVANCED)
    if run == "fapi1-advanced-tls-client-auth":
        controls.set(mtls_client_auth=True)   # F1's other client authentication ("alt")


def _jarm_claims(callback: str, lab: RunningLab) -> dict[str, Any]:
    """The JARM response the browser carried, verified here too (the lab's JWKS)."""
    query = parse_qs(urlsplit(callback).query)
    assert set(query) == {"response"}, callback   # JARM §2.3.1: nothing beside it
    keys = jwt.PyJWKClient(lab.config.issuer + "/jwks",
                           ssl_context=_ssl(lab)).get_signing_key_from_jwt(query["response"][0])
    return dict(jwt.decode(query["response"][0], keys.key, algorithms=["ES256"],
                           options={"verify_aud": False}))


def _ssl(lab: RunningLab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(lab.config.ca_cert_path))


@pytest.mark.parametrize("run", ["message-signing", "fapi1-advanced",
                                 "fapi1-advanced-tls-client-auth"])
def test_openid_client_signs_its_request_and_verifies_the_jarm_response(
        lab: RunningLab, controls: Any, node: Node, browser_thread: BrowserThread,
        shots: Path, run: str) -> None:
    _switch(controls, run)
    meta = requests.get(lab.config.issuer + "/.well-known/openid-configuration",
                        verify=str(lab.config.ca_cert_path), timeout=10).json()
    # RFC 9101 §10.5, JARM §3: what tells a client it must sign and expect a JWT response.
    assert meta.get("require_signed_request_object") is True, meta
    assert "jwt" in meta["response_modes_supported"], meta
    assert not {"query", "fragment", "form_post"} & set(meta["response_modes_supported"]), meta
    newest = lab_events.list_events(lab.store, limit=1)
    since = (newest[-1].id or 0) if newest else 0
    accounts = {a["type"]: a["id"] for a in ledger.accounts_of(lab.store, "alice")}
    share = {accounts[t] for t in SHARED}
    redirect_uri = f"https://127.0.0.1:{free_port()}/openid-client/cb"
    options: dict[str, Any] = {
        "issuer": lab.config.issuer, "redirect_uri": redirect_uri,
        "scope": "openid accounts:read", "resource_url": lab.config.bank_url + "/accounts",
        "jar": True, "jarm": True}
    thumbprint = None
    auth = "private_key_jwt"
    if run.startswith("fapi1-advanced"):
        cert = pki.client_cert(lab.config.pki_dir, "openid-client-interop")
        options.update(par=False, mtls={"cert": str(cert.cert), "key": str(cert.key)})
        thumbprint = pki.thumbprint_s256(cert.cert.read_bytes())
    if run == "fapi1-advanced-tls-client-auth":
        # RFC 8705 §2.1.2: the client is known by its certificate's subject.
        subject = x509.load_pem_x509_certificate(cert.cert.read_bytes()).subject
        options["tls_client_auth_subject_dn"] = subject.rfc4514_string()
        auth = "tls_client_auth"

    rp = node.start("rp.mjs", json.dumps(options))
    registered = rp.expect("registered", timeout=30)
    assert registered["token_endpoint_auth_method"] == auth, registered
    said = rp.expect("authorization_url", timeout=30)
    url = said["url"]
    assert url.startswith(lab.config.issuer + "/")
    # MS §5.3.1 / RFC 9126: the object pushed, only its request_uri in the front channel;
    # F1P2 §5.2.2: the object by value, with client_id beside it.
    front = {"client_id", "request_uri"} if run == "message-signing" else {"client_id", "request"}
    assert set(parse_qs(urlsplit(url).query)) == front
    head, claims = said["request_object"], said["request_object"]["claims"]
    assert head["alg"] == "ES256" and head["typ"] == "oauth-authz-req+jwt", head
    assert claims["iss"] == registered["client_id"] and claims["aud"] == lab.config.issuer
    assert 0 < claims["exp"] - claims["nbf"] <= 3600, claims   # F1P2 §5.2.2 item 13
    assert claims["response_mode"] == "jwt", claims

    def in_browser(page: Any) -> str:
        callback_catcher(page, redirect_uri)
        page.goto(url)
        caught = catch_callback(page, redirect_uri,
                                lambda: _alice_signs_in_and_approves(page, lab, shots, share))
        page.screenshot(path=shots / "04-callback.png", full_page=True)
        return caught

    callback = browser_thread.run(in_browser)
    response = _jarm_claims(callback, lab)
    assert response["iss"] == lab.config.issuer and response["aud"] == registered["client_id"]
    assert "code" in response, response
    rp.send({"callback": callback})

    tokens = rp.expect("tokens", timeout=30)
    if run == "message-signing":
        assert tokens["token_type"].lower() == "dpop"
        assert tokens["access_token_cnf"] == {"jkt": tokens["dpop_jkt"]}, tokens
    else:
        # RFC 8705 §3.1: bound to the certificate openid-client presented at the token endpoint.
        assert tokens["token_type"].lower() == "bearer"
        assert tokens["access_token_cnf"] == {"x5t#S256": thumbprint}, tokens
    resource = rp.expect("resource", timeout=30)
    assert resource["status"] == 200, resource
    assert {a["account_id"] for a in resource["body"]["accounts"]} == share
    if tokens["refresh_token"]:
        refreshed = rp.expect("refreshed", timeout=30)
        assert refreshed["resource_status"] == 200, refreshed
        revoked = rp.expect("revoked", timeout=30)
        assert revoked["refresh_after_revocation"] == {"refused": True, "error": "invalid_grant"}
    rp.expect("done", timeout=10)

    # No lab control refused openid-client anywhere.
    fired = [e for e in lab_events.list_events(lab.store, since_id=since) if e.kind == "fired"]
    assert fired == [], fired
