"""tpp_checks_iss: the authorization response's iss must name the AS the flow was sent to.

RFC 9207 §2.4; BCP §4.4.2.1; FAPI2 §5.3.3.2; attacks.md mix-up attacks.
"""

from __future__ import annotations

import secrets

import pytest

from lab import context
from lab.controls import events
from lab.tpp import callback, client, institutions
from lab.tpp.driver import TppBrowser, user_agent
from lab.tpp.errors import MixUpDetectedError
from lab.tpp.institutions import Institution
from tests.support.tpp_fapi import require_as, restored_tpp_settings, with_param

EVIL_ISSUER = "https://127.0.0.1:9448"


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _response(lab, username):  # type: ignore[no-untyped-def]
    """A browser with a flow pending at HonestBank, and HonestBank's answer (not delivered)."""
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(username)
    result = user_agent(lab.config, lab.store, "alice").authorize(browser.start_link())
    assert result.code and result.callback_url
    return browser, result


def test_response_naming_another_issuer_is_accepted_when_off(lab, controls, tpp_settings,
                                                            fired):
    controls.only()
    browser, result = _response(lab, "iss-off")
    r = browser.deliver(with_param(result.callback_url, "iss", EVIL_ISSUER))
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    assert fired(r) == []
    [linked] = browser.dashboard().links
    assert linked.status == "active"


def test_response_naming_another_issuer_is_refused_with_mix_up_detected_when_on(
        lab, controls, tpp_settings, fired):
    controls.only("tpp_checks_iss")
    browser, result = _response(lab, "iss-on")
    r = browser.deliver(with_param(result.callback_url, "iss", EVIL_ISSUER))
    assert r.status_code == 400
    assert r.json()["error"] == "mix_up_detected"
    assert fired(r) == ["tpp_checks_iss"]
    assert browser.dashboard().links == []


def test_response_with_its_own_issuer_is_accepted_when_on(lab, controls, tpp_settings, fired):
    controls.only("tpp_checks_iss")
    browser, result = _response(lab, "iss-own")
    r = browser.deliver(with_param(result.callback_url, "iss", lab.config.issuer))
    assert r.status_code == 303 and fired(r) == []


def test_missing_iss_is_refused_when_the_as_advertises_it_and_on(lab, controls, tpp_settings,
                                                                fired):
    controls.only("tpp_checks_iss")
    require_as(lab, "authorization_response_iss_parameter_supported")
    browser, result = _response(lab, "iss-missing")
    r = browser.deliver(with_param(result.callback_url, "iss", None))
    assert (r.status_code, r.json()["error"]) == (400, "mix_up_detected")
    assert fired(r) == ["tpp_checks_iss"]


@pytest.mark.parametrize("on", [False, True])
def test_code_of_the_honest_as_arriving_for_a_flow_sent_to_evilbank(lab, controls,
                                                                    tpp_settings, on):
    """The mix-up itself: the user picked EvilBank, the response is HonestBank's (its iss).

    Off, the TPP goes on to redeem the honest code at EvilBank's token endpoint (here it
    cannot reach one); on, it stops before any token request.
    """
    if on:
        controls.only("tpp_checks_iss")
    else:
        controls.only()
    evil = Institution("evilbank", "EvilBank", EVIL_ISSUER, "https://127.0.0.1:9447")
    flow = client.PendingFlow("st", "n", "v", "S256", evil.issuer, evil.id,
                              client.REQUESTED_SCOPE, 0.0)
    params = {"code": "honest-code", "state": "st", "iss": lab.config.issuer}
    request_id = f"mixup-{on}-{secrets.token_hex(4)}"
    with context.bound(lab.store, "tpp", request_id=request_id):
        if on:
            with pytest.raises(MixUpDetectedError):
                callback.check_iss(lab.config, evil, flow, params)
        else:
            callback.check_iss(lab.config, evil, flow, params)   # nothing stops it
    recorded = [e.control for e in events.list_events(lab.store, request_id=request_id)]
    assert recorded == (["tpp_checks_iss"] if on else [])


@pytest.mark.parametrize("on", [False, True])
def test_discovery_naming_another_issuer(lab, controls, tpp_settings, fired, on):
    """RFC 8414 §3.3 / OIDC Discovery §4.3 (the conformance suite's "discovery issuer
    mismatch"): the directory names `<issuer>/`, whose well-known document says `<issuer>`.

    Off, FinLens uses the document and starts the link; on, the link start is refused with
    mix_up_detected and the event belongs to that request. (attack discovery-issuer-mismatch)
    """
    if on:
        controls.only("tpp_checks_iss")
    else:
        controls.only()
    institutions.add_institution(lab.store, "slashbank", "SlashBank", lab.config.issuer + "/",
                                 lab.config.bank_url, client_id="tpp")
    try:
        browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
        browser.sign_in(f"disc-{on}")
        r = browser.http.post(browser.url("/link/slashbank"), allow_redirects=False)
        if on:
            assert (r.status_code, r.json()["error"]) == (400, "mix_up_detected")
            assert fired(r) == ["tpp_checks_iss"]
        else:
            assert r.status_code == 303
            assert r.headers["Location"].startswith(lab.config.issuer + "/authorize")
            assert fired(r) == []
    finally:
        lab.store.execute("DELETE FROM tpp_institutions WHERE id = 'slashbank'")
        institutions.forget_metadata()
