"""as_key_rotation: after `keys rotate` the old AS key retires; the bank lets go of it (FAPI2 §6.8).

A token signed by the retired key (the leaked backup of forged-token-retired-as-key) is
refused when on and served when off (the bank trusts every key it ever fetched). The
rotation itself: new key signs at once, both published during the overlap, the old one gone
after it, a second rotation refused meanwhile, and the bank's kid refetch bounded by count.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt
import pytest
import requests

from lab import clock, context, keys
from lab.jose.jws import JwksSource
from lab.protocol import key_rotation
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    _private_key,
    account,
    bearer,
    ensure_bank_knows_as_keys,
    mint,
)
from tests.test_admin import Admin


@pytest.fixture
def admin(lab: RunningLab, http: requests.Session, controls: Any) -> Admin:
    return Admin(lab, http)   # after `controls`: the clock offset is undone too


def _balances(lab: RunningLab) -> str:
    return f"{lab.config.bank_url}/accounts/{account('alice', 'checking')}/balances"


def _signed_by(lab: RunningLab, private: dict[str, Any]) -> str:
    """A genuine token (grant, registered jti) signed by `private`, whatever key it is."""
    claims = mint(lab).claims
    return jwt.encode(claims, _private_key(private), algorithm="ES256",
                      headers={"typ": "at+jwt", "kid": private["kid"]})


def _key(lab: RunningLab, kid: str) -> dict[str, Any]:
    return next(k for k in keys.KeyFile(lab.config.keys_dir, "as").read() if k["kid"] == kid)


def _rotate(lab: RunningLab, admin: Admin, http: requests.Session) -> tuple[str, str]:
    """(old kid, new kid) of a rotation made now; the bank has verified an old-key token."""
    ensure_bank_knows_as_keys(lab)
    held = keys.KeyFile(lab.config.keys_dir, "as").read()
    old = keys.signing_key(held)
    busy = max(float(k.get(keys.RETIRE_AT, 0)) for k in held) - clock.now(lab.store)
    if busy > 0:   # an earlier test's rotation: let its key retire first
        admin.post("/clock/advance", {"seconds": busy + 1})
    assert http.get(_balances(lab), headers=bearer(mint(lab).token)).status_code == 200
    r = admin.post("/keys/rotate", {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["old_kid"] == old["kid"] and body["new_kid"] != old["kid"]
    return body["old_kid"], body["new_kid"]


def _retire(lab: RunningLab, admin: Admin, kid: str) -> None:
    wait = float(_key(lab, kid)[keys.RETIRE_AT]) - clock.now(lab.store) + 1
    assert admin.post("/clock/advance", {"seconds": wait}).status_code == 200


def test_retired_key_token_is_served_when_off(lab, controls, admin, http, fired):
    controls.only("alg_allow_list", "trusted_keys_only", "token_expiry_check")
    old, _ = _rotate(lab, admin, http)
    _retire(lab, admin, old)
    jwks = http.get(lab.config.as_url + "/jwks").json()
    assert old not in {k["kid"] for k in jwks["keys"]}, "the AS no longer publishes it"
    r = http.get(_balances(lab), headers=bearer(_signed_by(lab, _key(lab, old))))
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_retired_key_token_is_refused_when_on(lab, controls, admin, http, fired):
    controls.only("alg_allow_list", "trusted_keys_only", "token_expiry_check", "as_key_rotation")
    old, new = _rotate(lab, admin, http)
    _retire(lab, admin, old)
    r = http.get(_balances(lab), headers=bearer(_signed_by(lab, _key(lab, old))))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert fired(r) == ["as_key_rotation"]
    fresh = http.get(_balances(lab), headers=bearer(_signed_by(lab, _key(lab, new))))
    assert fresh.status_code == 200, "the new key's tokens are served"


def _signs(lab: RunningLab) -> str:
    """The kid of what the AS signs now (ID tokens and access tokens follow the file)."""
    server = lab.apps["as"].extensions["lab_authorization_server"]
    with context.bound(lab.store, "as"):
        kid = server.signing.key["kid"]
        assert server._token_generators["default"].get_jwks().keys[0].kid == kid
    return str(kid)


def test_rotation_overlap_publishes_both_signs_with_new_and_refuses_a_second(
        lab, controls, admin, http):
    controls.only("token_expiry_check", "as_key_rotation")
    old, new = _rotate(lab, admin, http)
    published = {k["kid"] for k in http.get(lab.config.as_url + "/jwks").json()["keys"]}
    assert {old, new} <= published, "the new key is published at once"
    listed = {k["kid"]: k for k in admin.get("/keys").json()["keys"]}
    assert listed[new]["status"] == "next" and listed[old]["status"] == "current"
    assert _signs(lab) == old, "published ahead: the old key signs until the new one is active"
    admin.post("/clock/advance", {"seconds": key_rotation.PUBLISH_AHEAD})
    listed = {k["kid"]: k for k in admin.get("/keys").json()["keys"]}
    assert listed[new]["status"] == "current" and listed[old]["status"] == "retiring"
    # During the overlap an old-key token still works (it may have been issued a second ago).
    assert http.get(_balances(lab), headers=bearer(_signed_by(lab, _key(lab, old)))).ok
    again = admin.post("/keys/rotate", {})
    assert again.status_code == 409
    assert again.json()["error"] == "rotation_in_progress"
    assert old in again.json()["error_description"]
    assert _signs(lab) == new


def test_new_key_is_published_a_refetch_cooldown_before_it_signs():
    """The bank's unknown-kid cooldown can never hide a key the AS already signs with."""
    assert key_rotation.PUBLISH_AHEAD >= JwksSource.REFRESH_COOLDOWN


def test_a_random_kid_refetch_while_the_new_key_is_only_published_holds_it(
        lab, controls, admin, http):
    """The gap publish-ahead closes: a made-up kid makes the bank refetch (its cooldown starts)
    and the new key's first token comes while that cooldown still runs. The refetch came after
    the new key was published (it signs only PUBLISH_AHEAD >= the cooldown later), so the bank
    holds it already."""
    controls.only("alg_allow_list", "trusted_keys_only", "token_expiry_check")
    ensure_bank_knows_as_keys(lab)
    source = lab.apps["bank"].extensions["bank_protector"].keys.jwks()
    held = keys.KeyFile(lab.config.keys_dir, "as").read()
    busy = max(float(k.get(keys.RETIRE_AT, 0)) for k in held) - clock.now(lab.store)
    if busy > 0:
        admin.post("/clock/advance", {"seconds": busy + 1})
    source._refreshed_at = None   # earlier tests moved the lab clock hours in no wall time
    assert http.get(_balances(lab), headers=bearer(mint(lab).token)).status_code == 200
    r = admin.post("/keys/rotate", {})
    assert r.status_code == 200, r.text
    new = r.json()["new_kid"]
    source._refreshed_at = None   # the probe's refetch is the one whose cooldown runs
    stranger = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "stranger", ("ES256",)))
    probe = dict(stranger, kid="random-" + secrets.token_hex(6))
    before = source.fetches
    assert http.get(_balances(lab), headers=bearer(_signed_by(lab, probe))).status_code == 401
    fetches = source.fetches
    assert fetches == before + 1, "the made-up kid made the bank refetch"
    # The new key signs (lab clock moved, wall clock not: the bank's cooldown still runs).
    admin.post("/clock/advance", {"seconds": key_rotation.PUBLISH_AHEAD})
    assert _signs(lab) == new
    r = http.get(_balances(lab), headers=bearer(_signed_by(lab, _key(lab, new))))
    assert r.status_code == 200, r.text
    assert source.fetches == fetches, "held since the probe's refetch: no fetch needed"


def test_unknown_kids_do_not_become_a_refetch_storm(lab, controls, http):
    controls.only("alg_allow_list", "trusted_keys_only")
    ensure_bank_knows_as_keys(lab)
    source = lab.apps["bank"].extensions["bank_protector"].keys.jwks()
    source._refreshed_at = None   # earlier tests' refetches: count from a quiet bank
    assert http.get(_balances(lab), headers=bearer(mint(lab).token)).status_code == 200
    before = source.fetches
    stranger = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "stranger", ("ES256",)))
    for _ in range(40):
        forged = dict(stranger, kid="random-" + secrets.token_hex(6))
        r = http.get(_balances(lab), headers=bearer(_signed_by(lab, forged)))
        assert r.status_code == 401
    assert source.fetches - before <= 1, "at most one refetch per cooldown, whatever the kids"
