"""tpp_referrer_policy (preventive): the callback is handled server-side, then a 303 to a clean
URL with Referrer-Policy: no-referrer. Off: an interstitial with a partner's image renders with
the code in its URL and redeems by script. BCP §4.2.4; attacks.md `auth-response-leak-referer`.
"""

from __future__ import annotations

from lab.tpp.driver import TppBrowser, redeem_form, user_agent

PIXEL = "https://127.0.0.1:9447/pixel.png"


def authorized(lab, username):  # type: ignore[no-untyped-def]
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in(username)
    return b, user_agent(lab.config, lab.store, "alice").authorize(b.start_link())


def test_callback_page_with_the_code_loads_a_partner_image_when_off(lab, controls, fired):
    controls.only()
    b, result = authorized(lab, "referrer-off")
    page = b.deliver(result.callback_url, run_script=False)
    assert page.status_code == 200
    assert PIXEL in page.text
    # The page's own URL carries the code, and unsafe-url sends all of it as the Referer.
    assert page.headers["Referrer-Policy"] == "unsafe-url"
    assert ("code", result.code) in (redeem_form(page.text) or [])
    assert fired(page, kind="prevented") == []
    done = b.post_callback(dict(redeem_form(page.text) or []))   # the page's script
    assert done.status_code == 303 and b.dashboard().links


def test_callback_is_handled_server_side_and_leaves_no_referrer_when_on(lab, controls, fired):
    controls.only("tpp_referrer_policy")
    b, result = authorized(lab, "referrer-on")
    r = b.deliver(result.callback_url, run_script=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/dashboard"        # a clean URL: no code in it
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert PIXEL not in r.text and result.code not in r.text
    assert fired(r, kind="prevented") == ["tpp_referrer_policy"]
    assert fired(r) == []
    assert b.dashboard().links
