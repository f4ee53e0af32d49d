"""response_type_code_only at the TPP: tokens only from the token endpoint, never from the
front channel (query, or the fragment posted back by the page). FAPI2 §5.3.2.2; BCP §2.1.2.

(The AS side of this control — refusing token-bearing response types — is tested with the AS.)
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from lab.tpp.driver import TppBrowser, link, user_agent


def leaked_access_token(lab):  # type: ignore[no-untyped-def]
    """A genuine access token for alice's accounts (say, leaked from a log)."""
    victim = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    victim.sign_in("alice-code-only")
    assert link(victim, user_agent(lab.config, lab.store, "alice")).status_code == 303
    row = lab.store.query_one("SELECT l.access_token FROM tpp_links l JOIN tpp_users u "
                              "ON u.id = l.user_id WHERE u.username = 'alice-code-only'")
    return row["access_token"]


def deliver(lab, browser, how, params):  # type: ignore[no-untyped-def]
    if how == "query":
        return browser.deliver(f"{lab.config.tpp_url}/callback?{urlencode(params)}")
    return browser.post_callback(params)


@pytest.mark.parametrize("how", ["query", "fragment form-post"])
def test_injected_access_token_is_used_when_off(lab, controls, fired, how):
    controls.only()
    token = leaked_access_token(lab)
    attacker = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    attacker.sign_in(f"attacker-code-only-off-{how[:5]}")
    r = deliver(lab, attacker, how, {"access_token": token, "token_type": "Bearer",
                                     "expires_in": "300"})
    assert r.status_code == 303
    assert fired(r) == []
    [linked] = attacker.dashboard().links
    assert linked.status == "active" and linked.accounts      # alice's accounts


@pytest.mark.parametrize("how", ["query", "fragment form-post"])
@pytest.mark.parametrize("carried", ["access_token", "id_token"])
def test_front_channel_tokens_are_refused_when_on(lab, controls, fired, how, carried):
    controls.only("response_type_code_only")
    attacker = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    attacker.sign_in("attacker-code-only-on")
    r = deliver(lab, attacker, how, {carried: "eyJ0eXAiOiJKV1QifQ.e30.", "state": "s"})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_response_type"
    assert fired(r) == ["response_type_code_only"]
    assert attacker.dashboard().links == []
