"""GET /links/status: what FinLens's open dashboard polls to show a link stopped by the bank.

Only the signed-in user's own links, their status and the sentence the dashboard shows;
nobody signed in gets a JSON 401, never someone else's links.
"""

from __future__ import annotations

from lab.tpp import link_status, links


def test_nobody_signed_in_is_a_json_401(lab, http):
    r = http.get(lab.config.tpp_url + link_status.PATH, allow_redirects=False)
    assert r.status_code == 401
    assert r.json()["error"] == "login_required"
    assert r.headers["Cache-Control"] == "no-store"


def test_a_stopped_link_is_reported_with_the_reason_and_only_to_its_user(lab, http):
    assert http.post(lab.config.tpp_url + "/signin", data={"username": "carol-status"},
                     allow_redirects=False).status_code == 303
    carol = links.by_username(lab.store, "carol-status")
    other = links.sign_in(lab.store, "dave-status")
    assert carol is not None
    mine = links.save_link(lab.store, user_id=carol.id, institution_id="honestbank",
                           subject="alice", token={"access_token": "a", "expires_in": 60})
    links.save_link(lab.store, user_id=other.id, institution_id="honestbank",
                    subject="bob", token={"access_token": "b"})
    url = lab.config.tpp_url + link_status.PATH
    before = http.get(url).json()
    assert before["poll_ms"] == link_status.POLL_MS
    assert before["links"] == [{"id": mine, "status": "active", "institution": "HonestBank",
                                "message": ""}]
    links.mark_revoked(lab.store, mine, "stopped by you, at HonestBank")
    after = http.get(url).json()["links"]
    assert [(s["id"], s["status"]) for s in after] == [(mine, "revoked")]
    assert after[0]["message"] == ("Access to HonestBank has ended (stopped by you, at "
                                   "HonestBank). Re-link to see these accounts again.")
