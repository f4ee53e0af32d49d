"""FinLens's SET receiver (RFC 8935 push of RFC 8417 SETs): a valid one stops the link; each
bad one is refused with RFC 8935 §2.3's error JSON and never acted on."""

from __future__ import annotations

import json
import secrets
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock, context, keys
from lab.protocol import security_events as sets
from lab.serving.in_process import RunningLab
from lab.tpp import links
from tests.support.bank_tokens import mint

URL_PATH = sets.RECEIVER_PATH


def _url(lab: RunningLab) -> str:
    return lab.config.tpp_url + URL_PATH


def _link(lab: RunningLab) -> tuple[str, str]:
    """A FinLens link whose access token names a fresh grant: (link id, grant id)."""
    minted = mint(lab)
    user = links.sign_in(lab.store, "set-" + secrets.token_hex(4))
    link_id = links.save_link(lab.store, user_id=user.id, institution_id="honestbank",
                              subject=secrets.token_hex(4),
                              token={"access_token": minted.token, "token_type": "Bearer"})
    assert minted.grant_id
    return link_id, minted.grant_id


def _status(lab: RunningLab, link_id: str) -> dict[str, Any]:
    row = lab.store.query_one("SELECT status, status_reason FROM tpp_links WHERE id = ?",
                              (link_id,))
    assert row is not None
    return row


def _claims(lab: RunningLab, grant_id: str, **changes: Any) -> dict[str, Any]:
    claims = {"iss": lab.config.issuer, "aud": "tpp", "iat": clock.now_int(lab.store),
              "jti": secrets.token_urlsafe(12), "sub_id": {"format": "opaque", "id": grant_id},
              "events": {sets.SESSION_REVOKED: {"initiating_entity": "policy",
                                                "reason_user": {"en": "used elsewhere"}}}}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _as_signed(lab: RunningLab, claims: dict[str, Any], typ: str = sets.TYP) -> str:
    private = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "as"), "ES256")
    return jwt.encode(claims, jwt.PyJWK(private, algorithm="ES256").key, algorithm="ES256",
                      headers={"typ": typ, "kid": private["kid"]})


def _post(http: requests.Session, lab: RunningLab, body: str | bytes,
          content_type: str = sets.MEDIA_TYPE) -> requests.Response:
    return http.post(_url(lab), data=body, headers={"Content-Type": content_type})


def test_the_transmitter_s_set_stops_the_link(lab, http):
    link_id, grant_id = _link(lab)
    with context.bound(lab.store, "bank"):
        assert sets.push(lab.config, client_id="tpp", grant_id=grant_id, username="alice",
                         reason="HonestBank stopped this link because it was used elsewhere")
    status = _status(lab, link_id)
    assert status["status"] == "revoked"
    assert "HonestBank's monitoring" in status["status_reason"]
    assert "used elsewhere" in status["status_reason"]


def test_a_hand_made_valid_set_is_accepted_with_202(lab, http):
    link_id, grant_id = _link(lab)
    r = _post(http, lab, _as_signed(lab, _claims(lab, grant_id)))
    assert r.status_code == 202 and r.content == b""
    assert _status(lab, link_id)["status"] == "revoked"


def _unsigned(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none", headers={"typ": sets.TYP})


def _wrongly_signed(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={"typ": sets.TYP, "kid": "not-honestbank"})


BAD = {
    "unsigned": (lambda lab, g: _unsigned(_claims(lab, g)), "authentication_failed"),
    "wrongly-signed": (lambda lab, g: _wrongly_signed(_claims(lab, g)), "invalid_key"),
    "wrong-aud": (lambda lab, g: _as_signed(lab, _claims(lab, g, aud="evil")),
                  "invalid_audience"),
    "wrong-iss": (lambda lab, g: _as_signed(lab, _claims(lab, g, iss="https://evil.example")),
                  "invalid_issuer"),
    "wrong-typ": (lambda lab, g: _as_signed(lab, _claims(lab, g), typ="JWT"), "invalid_request"),
    "old-iat": (lambda lab, g: _as_signed(lab, _claims(lab, g, iat=1_000_000)),
                "invalid_request"),
    "no-event": (lambda lab, g: _as_signed(lab, _claims(lab, g, events={})), "invalid_request"),
    "garbage": (lambda lab, g: "this is not a JWS", "invalid_request"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sets_are_refused_and_never_acted_on(lab, http, case):
    link_id, grant_id = _link(lab)
    make, err = BAD[case]
    r = _post(http, lab, make(lab, grant_id))
    assert r.status_code == 400
    assert r.json()["err"] == err, r.text
    assert isinstance(r.json()["description"], str)
    assert _status(lab, link_id)["status"] == "active"


def test_a_replayed_jti_is_refused(lab, http):
    link_id, grant_id = _link(lab)
    token = _as_signed(lab, _claims(lab, grant_id))
    assert _post(http, lab, token).status_code == 202
    again = _post(http, lab, token)
    assert again.status_code == 400 and again.json()["err"] == "invalid_request"
    assert "already received" in again.json()["description"]


def test_wrong_content_type_is_refused(lab, http):
    link_id, grant_id = _link(lab)
    r = _post(http, lab, _as_signed(lab, _claims(lab, grant_id)), "application/json")
    assert r.status_code == 400 and r.json()["err"] == "invalid_request"
    assert _status(lab, link_id)["status"] == "active"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    st.lists(st.text(alphabet="ABCabc012-_={}\"", max_size=40), min_size=3, max_size=3)
      .map(lambda parts: ".".join(parts).encode()),
    st.dictionaries(st.text(max_size=8), st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=8), max_size=5).map(lambda d: _unsigned_header_json(d)),
))
def test_fuzz_the_receiver_never_500s_and_never_acts(lab, http, body):
    r = _post(http, lab, body)
    assert r.status_code in (400, 413), r.text
    if r.status_code == 400:
        assert r.json()["err"] in ("invalid_request", "invalid_key", "authentication_failed",
                                   "invalid_issuer", "invalid_audience")


def _unsigned_header_json(claims: dict[str, Any]) -> bytes:
    import base64

    def seg(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{seg({'alg': 'ES256', 'typ': sets.TYP})}.{seg(claims)}.AAAA".encode()


def test_alice_revoking_on_the_connected_apps_page_pushes_a_set(lab, http):
    from tests.test_bank_connected_apps import _csrf, sign_in
    link_id, grant_id = _link(lab)
    lab.store.execute("UPDATE grants SET client_id = 'tpp' WHERE id = ?", (grant_id,))
    page = requests.Session()
    page.trust_env, page.verify = False, str(lab.config.ca_cert_path)
    listed = sign_in(lab, page)
    r = page.post(lab.config.bank_url + "/connected-apps/revoke",
                  data={"grant_id": grant_id, "csrf_token": _csrf(listed.text)})
    assert r.status_code == 200
    status = _status(lab, link_id)
    assert status["status"] == "revoked"
    assert "stopped by you, at HonestBank" in status["status_reason"]
