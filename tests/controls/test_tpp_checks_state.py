"""tpp_checks_state: the callback takes only the state of a flow pending in this browser, once.

RFC 6749 §10.12; BCP §4.7.1; attacks.md `csrf-redirect-endpoint`.
"""

from __future__ import annotations

import pytest

from lab.tpp.driver import TppBrowser, link, user_agent


@pytest.fixture
def browser(lab):  # type: ignore[no-untyped-def]
    def _make(username: str) -> TppBrowser:
        b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
        b.sign_in(username)
        return b
    return _make


def mallorys_code(lab, browser):  # type: ignore[no-untyped-def]
    """The attacker links her own account in her own browser and keeps the code (tab closed)."""
    attacker = browser("mallory-finlens")
    result = user_agent(lab.config, lab.store, "mallory").authorize(attacker.start_link())
    assert result.code and result.state
    return result


def test_csrf_callback_links_the_attackers_account_when_off(lab, controls, browser, fired):
    controls.only()
    code_m = mallorys_code(lab, browser)
    victim = browser("victim-state-off")
    r = victim.deliver(f"{lab.config.tpp_url}/callback?code={code_m.code}&state=attackers")
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    assert fired(r) == []
    [linked] = victim.dashboard().links
    assert linked.status == "active" and linked.accounts   # mallory's accounts, as his own
    assert all(a.account_id.startswith("acc-") for a in linked.accounts)


def test_csrf_callback_is_refused_with_state_mismatch_when_on(lab, controls, browser, fired):
    controls.only("tpp_checks_state")
    code_m = mallorys_code(lab, browser)
    victim = browser("victim-state-on")
    r = victim.deliver(f"{lab.config.tpp_url}/callback?code={code_m.code}&state={code_m.state}")
    assert r.status_code == 400
    assert r.json()["error"] == "state_mismatch"
    assert fired(r) == ["tpp_checks_state"]
    assert victim.dashboard().links == []


def test_foreign_state_is_refused_even_with_a_flow_pending_when_on(lab, controls, browser,
                                                                   fired):
    controls.only("tpp_checks_state")
    code_m = mallorys_code(lab, browser)
    victim = browser("victim-pending")
    victim.start_link()          # the victim's own flow is pending, with its own state
    r = victim.deliver(f"{lab.config.tpp_url}/callback?code={code_m.code}&state={code_m.state}")
    assert (r.status_code, r.json()["error"]) == (400, "state_mismatch")
    assert fired(r) == ["tpp_checks_state"]


def test_state_is_single_use_even_with_the_old_cookie_when_on(lab, controls, browser, fired):
    controls.only("tpp_checks_state")
    victim = browser("victim-replay")
    agent = user_agent(lab.config, lab.store, "alice")
    result = agent.authorize(victim.start_link())
    cookies = victim.http.cookies.copy()        # the session as it was, flow still pending
    assert victim.deliver(result.callback_url).status_code == 303
    victim.http.cookies = cookies
    r = victim.deliver(result.callback_url)
    assert (r.status_code, r.json()["error"]) == (400, "state_mismatch")
    assert fired(r) == ["tpp_checks_state"]


def test_own_flow_still_links_when_on(lab, controls, browser, fired):
    controls.only("tpp_checks_state")
    victim = browser("victim-honest")
    r = link(victim, user_agent(lab.config, lab.store, "alice"))
    assert r.status_code == 303 and fired(r) == []
