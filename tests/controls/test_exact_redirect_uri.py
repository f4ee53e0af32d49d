"""exact_redirect_uri: string equality with a registered URI (BCP §2.1, §4.1.3); a refusal is
an error page, never a redirect."""

import pytest

from tests.support.oauth import authorization_url, pkce_pair, push, run, tpp_redirect_uri


def loose_variants(lab):
    registered = tpp_redirect_uri(lab)
    return [registered + "/../go?url=https://127.0.0.1:9446/steal",     # path prefix
            registered.replace(str(lab.config.tpp_port), "9446")]        # other loopback port


@pytest.mark.parametrize("variant", [0, 1])
def test_loosely_matching_redirect_uri_receives_the_code_when_off(lab, controls, variant):
    controls.only()
    uri = loose_variants(lab)[variant]
    result = run(lab, redirect_uri=uri)
    assert result.code and result.callback_url.startswith(uri.split("?")[0])


@pytest.mark.parametrize("variant", [0, 1])
def test_loosely_matching_redirect_uri_is_refused_without_redirect_when_on(
        lab, controls, http, fired, variant):
    controls.only("exact_redirect_uri")
    r = http.get(authorization_url(lab, redirect_uri=loose_variants(lab)[variant]),
                 allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    assert r.json()["error"] == "invalid_request"
    assert fired(r) == ["exact_redirect_uri"]


def test_refusal_is_a_readable_page_for_a_browser(lab, controls, http):
    controls.only("exact_redirect_uri")
    r = http.get(authorization_url(lab, redirect_uri=loose_variants(lab)[1]),
                 headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 400 and "text/html" in r.headers["Content-Type"]


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
@pytest.mark.parametrize("uri", ["https://evil.example/callback", "https://x/%22",
                                 "https://[broken/cb", "javascript:alert(1)"])
def test_unregistered_redirect_uri_is_refused_in_every_profile_without_event(
        lab, controls, http, fired, profile, uri):
    controls.profile(profile)
    if profile == "fapi2-security":
        # par_required: the authorization request, redirect_uri included, arrives by PAR, and
        # PAR validates it as /authorize would (RFC 9126 §2.1). A URI that matches no
        # registered one even loosely is refused whatever the switches: no event.
        _, challenge = pkce_pair()
        r = push(http, lab, redirect_uri=uri, code_challenge=challenge,
                 code_challenge_method="S256")
        assert r.status_code == 400 and "Location" not in r.headers
        assert r.json()["error"] == "invalid_request"
        assert r.json()["error_description"] == \
            "The redirect_uri is not registered for this client."
        assert r.headers["Cache-Control"] == "no-store"
    else:
        r = http.get(authorization_url(lab, redirect_uri=uri), allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers
    assert fired(r) == []


@pytest.mark.parametrize("variant", [0, 1])
def test_loosely_matching_redirect_uri_is_refused_at_par_in_fapi2_security(
        lab, controls, http, fired, variant):
    controls.profile("fapi2-security")
    _, challenge = pkce_pair()
    r = push(http, lab, redirect_uri=loose_variants(lab)[variant], code_challenge=challenge,
             code_challenge_method="S256")
    assert r.status_code == 400 and "Location" not in r.headers
    assert r.json()["error"] == "invalid_request"
    assert fired(r) == ["exact_redirect_uri"]


def test_registered_redirect_uri_is_accepted_when_on(lab, controls):
    controls.only("exact_redirect_uri")
    assert run(lab).code
