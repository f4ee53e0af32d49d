"""FinLens under the signed-message profiles, end to end (attacks.md §0's F1 and MS columns):
it reads discovery and links HonestBank, then reads balances.

fapi1-advanced: `code` + JARM, a signed request object by value in the URL (F1 makes PAR
optional and asks PKCE only with PAR, so neither), mTLS-bound tokens, private_key_jwt, state
and nonce. fapi2-message-signing: the request object pushed to PAR, JARM, DPoP,
private_key_jwt.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest

from lab import pki
from lab.tpp import institutions, keyring, session, settings
from tests.support.tpp_fapi import claims, require_as, restored_tpp_settings
from tests.test_tpp_fapi2_end_to_end import _link_and_read


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _effective(lab):  # type: ignore[no-untyped-def]
    honest = institutions.get(lab.store, "honestbank")
    return settings.effective(lab.store, institutions.metadata(honest,
                                                               str(lab.config.ca_cert_path)))


def test_fapi1_advanced_links_with_a_signed_request_jarm_and_certificate_bound_tokens(
        lab, controls, tpp_settings):
    controls.profile("fapi1-advanced")
    require_as(lab, "tls_client_certificate_bound_access_tokens", "require_signed_request_object")
    url, row = _link_and_read(lab, f"fapi1-{secrets.token_hex(3)}")
    query = dict(parse_qsl(urlsplit(url).query))
    assert "request_uri" not in query      # by value: F1 leaves PAR optional
    request_object = jwt.decode(query["request"], options={"verify_signature": False})
    assert request_object["response_type"] == "code"
    assert request_object["response_mode"] == "jwt"
    assert request_object["state"] and request_object["nonce"]
    assert "code_challenge" not in request_object
    assert jwt.get_unverified_header(query["request"])["alg"] in ("PS256", "ES256")
    assert row["token_type"].lower() == "bearer"
    cert, _ = keyring.client_certificate(lab.config, institutions.get(lab.store, "honestbank"))
    with open(cert, "rb") as handle:
        assert claims(row["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint_s256(
            handle.read())


def test_fapi2_message_signing_pushes_a_signed_request_and_gets_jarm_with_dpop(
        lab, controls, tpp_settings):
    controls.profile("fapi2-message-signing")
    require_as(lab, "pushed_authorization_request_endpoint", "require_signed_request_object",
               "dpop_signing_alg_values_supported")
    chosen = _effective(lab)
    assert (chosen.request, chosen.response_mode, chosen.sender_constraint,
            chosen.client_auth, chosen.pkce) == ("par+jar", "jwt", "dpop", "private_key_jwt",
                                                 "S256")
    url, row = _link_and_read(lab, f"fapi2ms-{secrets.token_hex(3)}")
    assert {k for k, _ in parse_qsl(urlsplit(url).query)} == {"client_id", "request_uri"}
    assert row["token_type"].lower() == "dpop"
    honest = institutions.get(lab.store, "honestbank")
    assert claims(row["access_token"])["cnf"]["jkt"] == session.dpop_signer(lab.config,
                                                                             honest).jkt
