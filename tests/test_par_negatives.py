"""The conformance suite's PAR negatives (RFC 9126 §4; FAPI2 §5.3.2.2, §5.3.3): checks the AS
makes in every profile, so no control switches them and no event is recorded. A request_uri
is bound to the client that pushed it, whichever way round the attacker tries; parameters next
to a request_uri are never merged into the pushed request (par_required refuses them, see
tests/controls/test_par_required.py; authz-request-scope-tampering is the attack)."""

from __future__ import annotations

import pytest

from tests.support.oauth import (
    credentials,
    par_authorization_url,
    pkce_pair,
    push,
    register,
    tpp_credentials,
    victim,
)

PROFILES = ("legacy", "fapi2-security")


def _pushed(http, lab, auth, client_id: str) -> str:  # type: ignore[no-untyped-def]
    _, challenge = pkce_pair()
    r = push(http, lab, auth=auth, client_id=client_id, code_challenge=challenge,
             code_challenge_method="S256",
             **({} if client_id == "tpp" else {"redirect_uri": "https://127.0.0.1:9446/callback"}))
    assert r.status_code == 201, r.text
    return str(r.json()["request_uri"])


@pytest.mark.parametrize("profile", PROFILES)
def test_another_clients_request_uri_is_invalid_request_uri_in_every_profile(
        lab, controls, http, fired, profile):
    controls.only()
    evil_id, evil_secret = credentials(register(http, lab))
    controls.profile(profile)
    # FinLens's pushed request opened as the attacker's client, and the attacker's pushed
    # request opened under FinLens's name (its consent page would then name FinLens)
    cases = [
        (_pushed(http, lab, tpp_credentials(lab), "tpp"), evil_id),
        (_pushed(http, lab, (evil_id, evil_secret), evil_id),
         "tpp"),
    ] if profile == "legacy" else [
        (_pushed(http, lab, "assertion", "tpp"), evil_id),
    ]
    for request_uri, client_id in cases:
        r = http.get(par_authorization_url(lab, request_uri, client_id=client_id),
                     allow_redirects=False)
        assert r.status_code == 400, (client_id, r.text)
        assert r.json()["error"] == "invalid_request_uri"
        assert fired(r) == []


def test_parameters_next_to_the_request_uri_never_replace_the_pushed_ones(lab, controls, http):
    controls.only()
    request_uri = _pushed(http, lab, tpp_credentials(lab), "tpp")
    url = par_authorization_url(lab, request_uri, redirect_uri="https://127.0.0.1:9446/callback",
                                scope="openid payments:write", response_type="token")
    result = victim(lab).authorize(url)
    # RFC 9101 §5 (which RFC 9126 §4 builds on): only the pushed parameters count
    assert result.code and result.callback_url.startswith(lab.config.tpp_url + "/callback")
