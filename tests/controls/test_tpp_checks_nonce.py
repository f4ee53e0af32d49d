"""tpp_checks_nonce: the ID token's nonce must be the one this browser's flow sent.

OIDC §3.1.3.7; BCP §4.5.3.2; attacks.md `code-injection` (legacy: no PKCE).
"""

from __future__ import annotations

from lab.tpp.driver import TppBrowser, user_agent


def browser(lab, username):  # type: ignore[no-untyped-def]
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in(username)
    return b


def inject_victims_code(lab, attacker_name):  # type: ignore[no-untyped-def]
    """The victim's flow is interrupted before the callback (tab closed; the code leaked).
    The attacker starts her own flow, stops at the AS, and delivers the victim's code with
    her own state."""
    victim = browser(lab, "alice-nonce")
    code_v = user_agent(lab.config, lab.store, "alice").authorize(victim.start_link()).code
    attacker = browser(lab, attacker_name)
    auth_url = attacker.start_link()
    state_a = dict(p.split("=", 1) for p in auth_url.split("?", 1)[1].split("&"))["state"]
    r = attacker.deliver(f"{lab.config.tpp_url}/callback?code={code_v}&state={state_a}")
    return attacker, r


def test_injected_code_links_the_victims_accounts_when_off(lab, controls, fired):
    controls.only("tpp_checks_state")      # state passes: it is the attacker's own
    attacker, r = inject_victims_code(lab, "mallory-nonce-off")
    assert r.status_code == 303
    assert fired(r) == []
    [linked] = attacker.dashboard().links
    assert linked.status == "active" and linked.accounts


def test_injected_code_is_refused_with_nonce_mismatch_when_on(lab, controls, fired):
    controls.only("tpp_checks_state", "tpp_checks_nonce")
    attacker, r = inject_victims_code(lab, "mallory-nonce-on")
    assert r.status_code == 400
    assert r.json()["error"] == "nonce_mismatch"
    assert fired(r) == ["tpp_checks_nonce"]
    assert attacker.dashboard().links == []


def test_front_channel_id_token_without_a_flow_is_refused_when_on(lab, controls, fired):
    controls.only("tpp_checks_nonce")
    b = browser(lab, "nobody-nonce")
    r = b.post_callback({"access_token": "x", "id_token": "e30.e30."})
    assert (r.status_code, r.json()["error"]) == (400, "nonce_mismatch")
    assert fired(r) == ["tpp_checks_nonce"]
