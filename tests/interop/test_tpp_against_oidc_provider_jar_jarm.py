"""FinLens against panva's oidc-provider with signed requests (JAR) and responses (JARM).

The same outside OP as test_tpp_against_oidc_provider.py, now with `features.requestObjects`
(requireSignedRequestObject: a request without a signed request object is refused) and
`features.jwtResponseModes`, in two runs:

- fapi2: oidc-provider's FAPI 2.0 profile; FinLens pushes a signed request object to PAR
  with a DPoP proof and asks for response_mode=jwt (the lab's MS defaults, attacks.md §0:
  request par+jar, response_mode jwt, sender_constraint dpop).
- fapi1: oidc-provider's FAPI 1.0 profile ('1.0 Final': the code flow only with JARM, a
  request object with exp, nbf and aud no more than 60 min apart, nonce, PKCE at PAR) with
  certificate-bound tokens (`features.mTLS`): FinLens presents its lab-CA certificate at the
  token endpoint and at the account API (the lab's F1 defaults with sender_constraint mtls).

With the lab's `jarm` control on, FinLens verifies the JARM response (signature with
oidc-provider's keys, iss, aud, exp) before it reads the code. The link ends with the
account, its balance and transactions read from the outside API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.controls import catalog, profiles
from lab.controls import events as lab_events
from lab.serving.in_process import RunningLab
from lab.tpp import institutions, settings
from tests.interop.flows import start_outside_op
from tests.interop.harness import BrowserThread, Node
from tests.interop.test_tpp_against_oidc_provider import (
    INSTITUTION,
    _forget_institution,
    _link_in_browser,
    _static_client,
)

pytestmark = pytest.mark.browser

PROFILE = {"fapi2": "fapi2-message-signing", "fapi1": "fapi1-advanced"}
SIGNED = ("jar_required", "request_object_lifetime", "jarm")
# FAPI 1.0's client-side checks, marked in the lab's F1 column (attacks.md §2.6).
FAPI1_TPP_CHECKS = ("tpp_checks_state", "tpp_checks_nonce")
# The outside account API neither verifies nor signs HTTP messages (RFC 9421).
NOT_AT_THE_OUTSIDE_OP = ("http_message_signing",)


def _switch(lab: RunningLab, controls: Any, run: str) -> None:
    """The lab profile of the run once profiles.py has it (FinLens then takes its defaults
    from the profile and adapts to oidc-provider's discovery); until then fapi2-security with
    the same controls on and FinLens's settings chosen explicitly (attacks.md §0)."""
    if PROFILE[run] in profiles.PROFILES:
        controls.profile(PROFILE[run])
        controls.set(**{c: False for c in NOT_AT_THE_OUTSIDE_OP if c in catalog.BY_ID})
        return
    controls.profile("fapi2-security")
    controls.set(**dict.fromkeys(SIGNED + (FAPI1_TPP_CHECKS if run == "fapi1" else ()), True))
    chosen = {"request": "par+jar", "response_mode": "jwt"}
    if run == "fapi1":
        chosen["sender_constraint"] = "mtls"
    for name, value in chosen.items():
        settings.set_setting(lab.store, name, value)


@pytest.mark.parametrize("run", ["fapi2", "fapi1"])
def test_finlens_links_an_account_at_oidc_provider_with_jar_and_jarm(
        lab: RunningLab, controls: Any, node: Node, browser_thread: BrowserThread,
        shots: Path, tmp_path: Path, run: str) -> None:
    newest = lab_events.list_events(lab.store, limit=1)
    since = (newest[-1].id or 0) if newest else 0
    client = {**_static_client(lab), "request_object_signing_alg": "ES256",
              "authorization_signed_response_alg": "ES256"}
    features: dict[str, Any] = {"jar": True, "jarm": True}
    if run == "fapi1":
        client.pop("dpop_bound_access_tokens")
        client["tls_client_certificate_bound_access_tokens"] = True
        features.update(fapi="1.0 Final", mtls_ca=str(lab.config.ca_cert_path))
    op, ready = start_outside_op(node, lab, tmp_path, client, **features)
    institutions.add_institution(lab.store, INSTITUTION, "OutsideBank (oidc-provider)",
                                 ready["issuer"], ready["api_base"], client_id="tpp",
                                 ca_path=str(lab.config.ca_cert_path))
    try:
        _switch(lab, controls, run)
        shown = browser_thread.run(
            lambda page: _link_in_browser(page, lab, ready["issuer"], op, shots))
    finally:
        settings.clear(lab.store)
        _forget_institution(lab)

    assert shown["status"] == "active", shown
    assert shown["subject"] == "outside-user"
    assert shown["accounts"] == ["op-acc-1"]
    assert shown["balances"] == ["1234.56"]
    assert sum("OutsideBank" in row for row in shown["transactions"]) == 3, shown

    # What oidc-provider saw: a signed request object pushed with private_key_jwt, a JWT
    # response mode, tokens bound the way the run asks, and API calls that passed its checks.
    said = op.drain()
    assert [(m["client_auth"], m["request_object"]) for m in said if m["event"] == "par"] \
        == [("private_key_jwt", True)], said
    assert [(m["response_mode"], m["nonce"]) for m in said if m["event"] == "authorization"] \
        == [("jwt", True)], said
    tokens = [m for m in said if m["event"] == "access_token"]
    bound = "mtls_bound" if run == "fapi1" else "dpop_bound"
    assert tokens and all(t[bound] for t in tokens), tokens
    calls = [m for m in said if m["event"] == "api"]
    assert {c["path"].rsplit("/", 1)[-1] for c in calls} == \
        {"accounts", "balances", "transactions"}, calls
    assert all(c["status"] == 200 for c in calls), calls
    # FinLens's own checks (JARM signature, iss, aud, exp; state and nonce in fapi1) passed.
    fired = [e for e in lab_events.list_events(lab.store, since_id=since) if e.kind == "fired"]
    assert fired == [], fired

