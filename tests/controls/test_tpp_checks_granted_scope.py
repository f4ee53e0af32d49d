"""tpp_checks_granted_scope: more scope granted than requested → discard, revoke, abort.

F1P1 §5.2.2, §5.2.3; RFC 6749 §5.1; attacks.md `authz-request-scope-tampering`.
"""

from __future__ import annotations

from lab.domain import consent
from lab.tpp.driver import TppBrowser, user_agent

WIDER = "openid+accounts%3Aread+transactions%3Aread+payments%3Awrite+offline_access"


def tampered_link(lab, username):  # type: ignore[no-untyped-def]
    """A browser extension adds payments:write to the request the victim approves."""
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in(username)
    url = b.start_link()
    requested = url.split("scope=", 1)[1].split("&", 1)[0]
    result = user_agent(lab.config, lab.store, "alice").authorize(url.replace(requested, WIDER))
    return b, b.deliver(result.callback_url)


def payment_grants(lab):  # type: ignore[no-untyped-def]
    return [g for g in consent.grants_of(lab.store, "alice", active_only=False)
            if "payments:write" in g["scope"].split()]


def test_wider_grant_is_kept_when_off(lab, controls, fired):
    controls.only()
    b, r = tampered_link(lab, "scope-off")
    assert r.status_code == 303
    assert fired(r) == []
    row = lab.store.query_one("SELECT l.scope FROM tpp_links l JOIN tpp_users u "
                              "ON u.id = l.user_id WHERE u.username = 'scope-off'")
    assert "payments:write" in row["scope"].split()


def test_wider_grant_is_discarded_and_revoked_when_on(lab, controls, fired):
    controls.only("tpp_checks_granted_scope")
    before = {g["id"] for g in payment_grants(lab)}
    b, r = tampered_link(lab, "scope-on")
    assert r.status_code == 400
    assert r.json()["error"] == "scope_mismatch"
    assert fired(r) == ["tpp_checks_granted_scope"]
    assert b.dashboard().links == []
    # RFC 7009: the TPP revoked the tokens it was handed at the AS.
    [new] = [g for g in payment_grants(lab) if g["id"] not in before]
    tokens = lab.store.query("SELECT revoked FROM refresh_tokens WHERE grant_id = ?",
                             (new["id"],))
    assert tokens and all(t["revoked"] for t in tokens)
