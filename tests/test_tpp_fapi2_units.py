"""FinLens's FAPI 2.0 client pieces on their own: DPoP proofs and nonces, client assertions,
settings adapting to metadata, per-institution keys, the settings page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
import requests

from lab import clock, context, keys
from lab.jose import dpop_proof
from lab.jose import jwk as jose_jwk
from lab.tpp import assertion, dpop_signer, keyring, settings
from lab.tpp.institutions import Institution

HONEST = Institution("honestbank", "HonestBank", "https://as.example", "https://bank.example")
OTHER = Institution("otherbank", "OtherBank", "https://other.example", "https://api.other.example")


@pytest.fixture
def tpp_ctx(lab, controls):  # type: ignore[no-untyped-def]
    saved = lab.store.get_setting(settings.SETTINGS_KEY)
    with context.bound(lab.store, "tpp"):
        yield lab.store
    lab.store.set_setting(settings.SETTINGS_KEY, saved or {})


def _response(status: int, headers: dict[str, str], body: bytes = b"{}") -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, body
    r.headers.update(headers)
    return r


# --- DPoP (RFC 9449) ------------------------------------------------------------------------

def test_proof_has_the_rfc_9449_header_and_claims_and_verifies_with_its_own_jwk(lab, tpp_ctx):
    private = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "unit-dpop",
                                                  ("ES256",)), "ES256")
    signer = dpop_signer.Signer(private)
    proof = signer.proof("get", "https://bank.example/accounts?x=1#f", access_token="at-1",
                         nonce="n-1")
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert "d" not in header["jwk"] and jose_jwk.thumbprint(header["jwk"]) == signer.jkt
    claims = jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=["ES256"])
    assert claims["htm"] == "GET" and claims["htu"] == "https://bank.example/accounts"
    assert claims["ath"] == dpop_proof.ath("at-1") and claims["nonce"] == "n-1"
    assert abs(claims["iat"] - clock.now()) < 5 and len(claims["jti"]) >= 16
    assert signer.proof("GET", "https://bank.example/accounts") != proof


def test_thumbprint_matches_rfc_7638_example_key():
    # RFC 7638 §3.1 uses an RSA key; this EC thumbprint is checked against joserfc's.
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    assert jose_jwk.thumbprint(key.as_dict(private=False)) == key.thumbprint()


@pytest.mark.parametrize("status, headers, body, expected", [
    (400, {"DPoP-Nonce": "n"}, b'{"error": "use_dpop_nonce"}', True),
    (401, {"DPoP-Nonce": "n", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"'}, b"", True),
    (400, {}, b'{"error": "use_dpop_nonce"}', False),
    (400, {"DPoP-Nonce": "n"}, b'{"error": "invalid_dpop_proof"}', False),
    (200, {"DPoP-Nonce": "n"}, b"{}", False),
])
def test_use_dpop_nonce_is_recognised_at_the_as_and_the_bank(status, headers, body, expected):
    assert dpop_signer.asks_for_nonce(_response(status, headers, body)) is expected


def test_send_retries_once_with_the_servers_nonce_and_remembers_it(lab, tpp_ctx):
    dpop_signer.forget_nonces()
    signer = dpop_signer.Signer(keyring.dpop_key(lab.config, HONEST))
    seen: list[dict[str, Any]] = []

    def server(extra: dict[str, str]) -> requests.Response:
        seen.append(jwt.decode(extra["DPoP"], options={"verify_signature": False}))
        return _response(400, {"DPoP-Nonce": f"n{len(seen)}"}, b'{"error": "use_dpop_nonce"}')

    r = dpop_signer.send(server, signer, "POST", "https://as.example/token")
    assert r.status_code == 400 and len(seen) == 2            # once more, not forever
    assert "nonce" not in seen[0] and seen[1]["nonce"] == "n1"
    assert dpop_signer.nonce_for("https://as.example/par") == "n2"   # per server (origin)
    assert dpop_signer.nonce_for("https://bank.example/accounts") is None
    dpop_signer.forget_nonces()


# --- private_key_jwt (RFC 7523) -------------------------------------------------------------

@pytest.mark.parametrize("on, expected_aud", [(True, "https://as.example"),
                                              (False, "https://as.example/par")])
def test_assertion_aud_follows_tpp_assertion_aud_issuer(lab, controls, tpp_ctx, on,
                                                       expected_aud):
    controls.set(tpp_assertion_aud_issuer=on)
    private = keyring.assertion_key(lab.config, "PS256")
    encode = assertion.auth_method("https://as.example", private, "PS256")
    auth = type("Auth", (), {"client_id": "tpp"})()
    _, _, body = encode(auth, "POST", "https://as.example/par", {}, "client_id=tpp&state=s")
    pairs = parse_qsl(body)
    assert [k for k, _ in pairs].count("client_id") == 1
    params = dict(pairs)
    assert params["client_assertion_type"] == assertion.ASSERTION_TYPE
    public = keys.public_jwks(keys.ensure_keyset(lab.config.keys_dir, "tpp"))
    key = next(k for k in public["keys"] if k["alg"] == "PS256")
    claims = jwt.decode(params["client_assertion"], jwt.PyJWK(key).key, algorithms=["PS256"],
                        audience=expected_aud)
    assert claims["aud"] == expected_aud and claims["iss"] == claims["sub"] == "tpp"
    assert 0 < claims["exp"] - claims["iat"] <= 60 and claims["jti"]


# --- settings adapt to the AS ---------------------------------------------------------------

FAPI_META = {"token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
             "token_endpoint_auth_signing_alg_values_supported": ["PS256"],
             "pushed_authorization_request_endpoint": "https://as.example/par",
             "require_pushed_authorization_requests": True,
             "dpop_signing_alg_values_supported": ["ES256", "PS256"]}


def test_fapi2_defaults_use_par_private_key_jwt_dpop_when_the_as_offers_them(controls, tpp_ctx):
    controls.profile("fapi2-security")
    settings.clear(tpp_ctx)
    eff = settings.effective(tpp_ctx, FAPI_META)
    assert (eff.client_auth, eff.assertion_alg, eff.request, eff.sender_constraint, eff.pkce) \
        == ("private_key_jwt", "PS256", "par", "dpop", "S256")


def test_defaults_fall_back_when_the_as_lacks_par_and_dpop(controls, tpp_ctx):
    controls.profile("fapi2-security")
    settings.clear(tpp_ctx)
    eff = settings.effective(tpp_ctx, {"token_endpoint_auth_methods_supported":
                                       ["client_secret_basic", "tls_client_auth"],
                                       "tls_client_certificate_bound_access_tokens": True})
    assert (eff.client_auth, eff.request, eff.sender_constraint) == \
        ("tls_client_auth", "query", "mtls")
    assert len(eff.notes) == 3


def test_a_query_client_pushes_when_the_as_requires_par_unless_told_not_to(controls, tpp_ctx):
    controls.profile("oauth2")
    settings.clear(tpp_ctx)
    assert settings.effective(tpp_ctx, FAPI_META).request == "par"
    settings.set_setting(tpp_ctx, "request", "query")
    assert settings.effective(tpp_ctx, FAPI_META).request == "query"


def test_a_client_without_pkce_adds_s256_where_the_as_takes_only_pushed_s256_requests(
        controls, tpp_ctx):
    """F1P2 §5.2.2 (18): a FAPI 1.0 AS requires PKCE S256 on PAR (oidc-provider's 1.0 Final
    does); FinLens under legacy (pkce none) pushes to such an AS, so it adds S256."""
    controls.profile("legacy")
    settings.clear(tpp_ctx)
    strict = {"pushed_authorization_request_endpoint": "https://as.example/par",
              "require_pushed_authorization_requests": True,
              "code_challenge_methods_supported": ["S256"]}
    eff = settings.effective(tpp_ctx, strict)
    assert (eff.request, eff.pkce) == ("par", "S256")
    assert any("S256 PKCE" in note for note in eff.notes)
    # an AS that still offers plain, or one that does not require PAR: none stays none
    lenient = {**strict, "code_challenge_methods_supported": ["S256", "plain"]}
    assert settings.effective(tpp_ctx, lenient).pkce == "none"
    assert settings.effective(tpp_ctx, {**strict, "require_pushed_authorization_requests":
                                        False}).pkce == "none"
    settings.set_setting(tpp_ctx, "pkce", "none")     # explicit: as set
    assert settings.effective(tpp_ctx, strict).pkce == "none"


DPOP_REQUIRED = {"dpop_signing_alg_values_supported": ["ES256"],
                 "dpop_bound_access_tokens_required": True}


def test_a_bearer_client_uses_dpop_when_the_as_requires_it_unless_told_not_to(controls,
                                                                             tpp_ctx):
    """As for PAR: an AS that says it issues only DPoP-bound tokens gets DPoP proofs."""
    controls.profile("oauth2")
    settings.clear(tpp_ctx)
    eff = settings.effective(tpp_ctx, DPOP_REQUIRED)
    assert eff.sender_constraint == "dpop"
    assert any("requires DPoP" in note for note in eff.notes)
    # offered, not required (RFC 9449 §5.1): a bearer client stays a bearer client
    offered = {"dpop_signing_alg_values_supported": ["ES256"]}
    assert settings.effective(tpp_ctx, offered).sender_constraint == "none"
    settings.set_setting(tpp_ctx, "sender_constraint", "none")
    assert settings.effective(tpp_ctx, DPOP_REQUIRED).sender_constraint == "none"


def test_explicit_settings_are_used_as_set_even_when_the_as_does_not_offer_them(controls,
                                                                                tpp_ctx):
    controls.profile("fapi2-security")
    settings.clear(tpp_ctx)
    settings.set_setting(tpp_ctx, "client_auth", "client_secret_post")
    settings.set_setting(tpp_ctx, "sender_constraint", "none")
    eff = settings.effective(tpp_ctx, FAPI_META)
    assert (eff.client_auth, eff.sender_constraint) == ("client_secret_post", "none")


def test_choosing_mtls_switches_the_alt_controls_on(lab, controls, tpp_ctx):
    from lab.controls.registry import Registry

    controls.profile("fapi2-security")
    settings.clear(tpp_ctx)
    registry = Registry(lab.store)
    assert not registry.is_on("mtls_bound_tokens") and not registry.is_on("mtls_client_auth")
    settings.set_setting(tpp_ctx, "sender_constraint", "mtls")
    settings.set_setting(tpp_ctx, "client_auth", "tls_client_auth")
    assert registry.is_on("mtls_bound_tokens") and registry.is_on("mtls_client_auth")
    settings.clear(tpp_ctx)
    assert not registry.is_on("mtls_bound_tokens") and not registry.is_on("mtls_client_auth")


# --- keys per institution -------------------------------------------------------------------

def test_home_institution_keeps_the_registered_certificate_with_per_as_keys(lab, controls,
                                                                           tpp_ctx):
    controls.set(tpp_per_as_keys=True)
    assert keyring.certificate_name(HONEST) == "tpp"
    assert keyring.certificate_name(OTHER) == "tpp-otherbank"
    controls.set(tpp_per_as_keys=False)
    assert keyring.certificate_name(OTHER) == "tpp"


def test_settings_page_shows_method_par_sender_constraint_and_key_thumbprint(lab, controls,
                                                                            http, tpp_ctx):
    controls.profile("fapi2-security")
    settings.clear(tpp_ctx)
    settings.set_setting(tpp_ctx, "sender_constraint", "mtls")
    page = http.get(lab.config.tpp_url + "/settings").text
    assert 'data-name="client_auth"' in page and "private_key_jwt" in page
    assert "client certificate (x5t#S256)" in page and 'data-name="request"' in page
