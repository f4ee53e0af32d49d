"""pairwise_subjects (preventive; OIDC Core §8, §8.1, §17.3): every client gets a pairwise
`sub`, even one that registered public. Off: FinLens and any other app see alice's public
identifier, the same value, so they can join what they know of her. Nothing is refused; the
`prevented` event of the token request is what the correlation attack is judged by.
attacks.md `user-correlation-across-apps`; the feature itself: tests/test_subject_types.py.
"""

from __future__ import annotations

from tests.support.oauth import claims, register, tokens, tpp_credentials
from tests.test_subject_types import other_app_sub


def test_every_app_sees_the_same_public_sub_when_off(lab, controls, http, fired):
    controls.only()
    finlens = tokens(http, lab, pkce=False)
    assert claims(finlens["id_token"])["sub"] == "alice"
    sub, response = other_app_sub(http, lab, register(http, lab))
    assert sub == "alice"                       # the two apps can join on it
    assert fired(response, kind="prevented") == [] and fired(response) == []


def test_each_app_gets_its_own_pseudonym_when_on(lab, controls, http, fired):
    controls.only("pairwise_subjects")
    code_flow = tokens(http, lab, pkce=False)
    finlens_sub = claims(code_flow["id_token"])["sub"]
    assert finlens_sub != "alice"
    # RFC 9068 §6: the client can read its access token; it carries the same pseudonym.
    assert claims(code_flow["access_token"])["sub"] == finlens_sub
    sub, response = other_app_sub(http, lab, register(http, lab))
    assert sub not in ("alice", finlens_sub)
    # Nothing refused: the token request succeeded, and the prevention is on record for it.
    assert response.status_code == 200
    assert fired(response, kind="prevented") == ["pairwise_subjects"]
    assert fired(response) == []


def test_the_pseudonym_works_everywhere_the_public_sub_did(lab, controls, http):
    controls.only("pairwise_subjects")
    body = tokens(http, lab, pkce=False)
    sub = claims(body["id_token"])["sub"]
    bearer = {"Authorization": "Bearer " + body["access_token"]}
    info = http.get(lab.config.as_url + "/userinfo", headers=bearer).json()
    assert info["sub"] == sub and info["name"]
    introspected = http.post(lab.config.as_url + "/introspect",
                             data={"token": body["access_token"]}, auth=tpp_credentials(lab))
    assert introspected.json()["sub"] == sub
    refresh = http.post(lab.config.as_url + "/introspect", auth=tpp_credentials(lab),
                        data={"token": body["refresh_token"]}).json()
    assert refresh["sub"] == sub
    # The bank finds alice's accounts through the AS's token registry.
    accounts = http.get(lab.config.bank_url + "/accounts", headers=bearer)
    assert accounts.status_code == 200, accounts.text
    assert len(accounts.json()["accounts"]) >= 2
    # Stable: the next sign-in gets the same pseudonym.
    assert claims(tokens(http, lab, pkce=False)["id_token"])["sub"] == sub


def test_discovery_offers_only_pairwise_when_on(lab, controls, http):
    controls.only("pairwise_subjects")
    url = lab.config.issuer + "/.well-known/openid-configuration"
    assert http.get(url).json()["subject_types_supported"] == ["pairwise"]
    controls.only()
    assert http.get(url).json()["subject_types_supported"] == ["public", "pairwise"]


def test_a_token_issued_while_on_keeps_working_after_off(lab, controls, http):
    controls.only("pairwise_subjects")
    body = tokens(http, lab, pkce=False)
    controls.only()
    r = http.get(lab.config.bank_url + "/accounts",
                 headers={"Authorization": "Bearer " + body["access_token"]})
    assert r.status_code == 200 and r.json()["accounts"]
