"""Discovery under fapi2-security says what FAPI 2.0 requires (attacks.md §2.8): PAR required,
private_key_jwt only (mTLS client auth when the TPP setting selects it), iss in responses."""

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata


def _metadata(http, lab):
    return http.get(lab.config.as_url + "/.well-known/oauth-authorization-server").json()


def test_fapi2_security_discovery(lab, controls, http):
    controls.profile("fapi2-security")
    meta = _metadata(http, lab)
    AuthorizationServerMetadata(meta).validate()
    issuer = lab.config.issuer
    # RFC 9126 §5; FAPI2 §5.3.2.2: PAR required.
    assert meta["pushed_authorization_request_endpoint"] == issuer + "/par"
    assert meta["require_pushed_authorization_requests"] is True
    # FAPI2 §5.3.2.1: client authentication by private_key_jwt (or MTLS) only.
    for key in ("token_endpoint_auth_methods_supported",
                "revocation_endpoint_auth_methods_supported",
                "introspection_endpoint_auth_methods_supported"):
        assert meta[key] == ["private_key_jwt"], key
    # RFC 9207 §3; FAPI2 §5.3.2.2: iss in authorization responses.
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_fapi2_security_with_mtls_client_auth_offers_certificate_methods(lab, controls, http):
    controls.profile("fapi2-security")
    controls.set(mtls_client_auth=True)
    methods = _metadata(http, lab)["token_endpoint_auth_methods_supported"]
    assert methods == ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"]


def test_legacy_discovery_offers_secrets_and_optional_par(lab, controls, http):
    controls.profile("legacy")
    meta = _metadata(http, lab)
    assert meta["pushed_authorization_request_endpoint"] == lab.config.issuer + "/par"
    assert "require_pushed_authorization_requests" not in meta
    assert "authorization_response_iss_parameter_supported" not in meta
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"])
    assert "tls_client_auth" not in meta["token_endpoint_auth_methods_supported"]
