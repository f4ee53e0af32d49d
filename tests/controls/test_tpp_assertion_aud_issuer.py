"""tpp_assertion_aud_issuer: the TPP addresses its client assertions to the issuer identifier.

FAPI2 §5.3.3.1; draft-ietf-oauth-rfc7523bis; attacks.md `client-assertion-audience-injection`.
Nothing is refused at the TPP: the effect shows at the AS, through client_assertion_aud_check
with `issuer_only`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from lab.controls import spine
from lab.tpp import client, institutions, session
from lab.tpp.driver import TppBrowser, link, user_agent
from tests.support.tpp_fapi import claims, restored_tpp_settings


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        # The token endpoint measures it: no PAR in front, no sender constraint in the way.
        tpp.set(client_auth="private_key_jwt", request="query", sender_constraint="none",
                pkce="S256")
        yield tpp


def _assertion_sent_to(lab, endpoint_name):  # type: ignore[no-untyped-def]
    """The assertion the TPP's own session attaches to a POST to that endpoint."""
    inst = institutions.get(lab.store, "honestbank")
    meta, chosen = client.prepare(lab.config, inst)
    http = session.build(lab.config, inst, chosen)
    url = meta[endpoint_name]
    _, _, body = http.client_auth(chosen.client_auth).prepare("POST", url, {}, "")
    return url, claims(dict(parse_qsl(body))["client_assertion"])


@pytest.mark.parametrize("on", [False, True])
def test_the_tpp_addresses_assertions_to_the_issuer_only_when_on(lab, controls, tpp_settings,
                                                                on):
    if on:
        controls.only("tpp_assertion_aud_issuer")
    else:
        controls.only()
    url, sent = _assertion_sent_to(lab, "token_endpoint")
    assert sent["aud"] == (lab.config.issuer if on else url)
    assert sent["iss"] == sent["sub"] == "tpp"


def _link(lab, username):  # type: ignore[no-untyped-def]
    if not spine.enforcement_points("client_assertion_aud_check"):
        pytest.skip("client_assertion_aud_check is not enforced at the AS yet")
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    return link(browser, user_agent(lab.config, lab.store, "alice"))


def test_endpoint_url_audience_is_refused_at_the_token_endpoint_when_off(lab, controls,
                                                                       tpp_settings, fired):
    controls.only("client_assertion_aud_check")
    controls.param("client_assertion_aud_check", "issuer_only", True)
    r = _link(lab, "aud-off")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_client"
    assert "client_assertion_aud_check" in fired(r)


def test_issuer_audience_is_accepted_at_the_token_endpoint_when_on(lab, controls, tpp_settings,
                                                                  fired):
    controls.only("client_assertion_aud_check", "tpp_assertion_aud_issuer")
    controls.param("client_assertion_aud_check", "issuer_only", True)
    r = _link(lab, "aud-on")
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    assert fired(r) == []
