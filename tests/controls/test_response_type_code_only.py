"""response_type_code_only: token-bearing response types are refused (FAPI2 §5.3.2.2)."""

from tests.support.oauth import claims, run


def test_hybrid_response_delivers_an_id_token_in_the_front_channel_when_off(lab, controls):
    controls.only()
    result = run(lab, response_type="code id_token")
    assert result.code and "#" in result.callback_url
    assert claims(result.params["id_token"])["nonce"]


def test_hybrid_response_type_is_refused_with_unsupported_response_type_when_on(
        lab, controls, fired):
    controls.only("response_type_code_only")
    result = run(lab, response_type="code id_token")
    assert result.response.status_code == 302
    assert result.error == "unsupported_response_type" and result.code is None
    assert fired(result.response) == ["response_type_code_only"]


def test_discovery_lists_only_code_when_on(lab, controls, http):
    url = lab.config.as_url + "/.well-known/oauth-authorization-server"
    controls.only()
    assert "code id_token" in http.get(url).json()["response_types_supported"]
    controls.only("response_type_code_only")
    assert http.get(url).json()["response_types_supported"] == ["code"]
