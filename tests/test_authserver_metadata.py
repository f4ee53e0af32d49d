"""Discovery (RFC 8414, OIDC Discovery) follows the switches; the JWKS has the AS keys."""

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from lab.controls import profiles


def test_metadata_is_valid_rfc8414_in_every_profile(lab, controls, http):
    for profile in profiles.names():
        controls.profile(profile)
        meta = http.get(lab.config.as_url + "/.well-known/oauth-authorization-server").json()
        AuthorizationServerMetadata(meta).validate()
        assert meta["issuer"] == lab.config.issuer


def test_alg_values_follow_the_allow_list(lab, controls, http):
    url = lab.config.as_url + "/.well-known/openid-configuration"
    controls.only()
    assert "none" in http.get(url).json()["id_token_signing_alg_values_supported"]
    controls.only("alg_allow_list")
    controls.param("alg_allow_list", "algorithms", ["PS256", "ES256"])
    meta = http.get(url).json()
    assert meta["id_token_signing_alg_values_supported"] == ["PS256", "ES256"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["PS256", "ES256"]


def test_jwks_publishes_public_keys_only(lab, http):
    keys = http.get(lab.config.as_url + "/jwks").json()["keys"]
    assert {k["alg"] for k in keys} >= {"ES256"}
    assert all("d" not in k and "p" not in k for k in keys)
