"""tpp_id_token_validation: signature, iss, aud, azp, exp and iat freshness of the ID token.

OIDC §3.1.3.7, §16.11; attacks.md `id-token-wrong-audience` (posted to the callback's
form-post with response_type_code_only off, as a legacy hybrid client accepts it).
"""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lab import clock, keys
from lab.tpp.driver import TppBrowser, link, user_agent


def as_signed(lab, **claims):  # type: ignore[no-untyped-def]
    key = keys.signing_key(keys.ensure_keyset(lab.config.keys_dir, "as"), "ES256")
    pem = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key))
    return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": key["kid"]})


def foreign_signed(**claims):  # type: ignore[no-untyped-def]
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={"kid": "attacker-key"})


def claims(lab, **overrides):  # type: ignore[no-untyped-def]
    now = int(clock.now(lab.store))
    base = {"iss": lab.config.issuer, "aud": "tpp", "sub": "alice", "iat": now,
            "exp": now + 300}
    base.update(overrides)
    return base


FORGERIES = {
    "issued to another client": lambda lab: as_signed(lab, **claims(lab, aud="evil-app")),
    "another issuer": lambda lab: as_signed(lab, **claims(lab, iss="https://127.0.0.1:9448")),
    "expired": lambda lab: as_signed(lab, **claims(lab, exp=int(clock.now(lab.store)) - 3600)),
    "stale iat": lambda lab: as_signed(lab, **claims(lab, iat=int(clock.now(lab.store)) - 86400,
                                                     exp=int(clock.now(lab.store)) + 300)),
    "azp of another client": lambda lab: as_signed(lab, **claims(lab, aud=["tpp", "evil-app"],
                                                                 azp="evil-app")),
    "signed by the attacker": lambda lab: foreign_signed(**claims(lab)),
    "not a JWT": lambda lab: "not-a-jwt",
}


def post_id_token(lab, username, id_token):  # type: ignore[no-untyped-def]
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in(username)
    return b, b.post_callback({"access_token": "opaque", "token_type": "Bearer",
                               "id_token": id_token})


def test_foreign_id_token_signs_in_as_the_victim_when_off(lab, controls, fired):
    controls.only()
    b, r = post_id_token(lab, "attacker-idt-off", FORGERIES["issued to another client"](lab))
    assert r.status_code == 303
    assert fired(r) == []
    page = b.http.get(lab.config.tpp_url + "/dashboard").text
    assert 'data-testid="link-subject">alice<' in page


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_invalid_id_token_is_refused_when_on(lab, controls, fired, forgery):
    controls.only("tpp_id_token_validation")
    b, r = post_id_token(lab, "attacker-idt-on", FORGERIES[forgery](lab))
    assert r.status_code == 400
    assert r.json()["error"] == "id_token_invalid"
    assert fired(r) == ["tpp_id_token_validation"]
    assert b.dashboard().links == []


def test_genuine_id_token_from_the_code_flow_passes_when_on(lab, controls, fired):
    controls.only("tpp_id_token_validation")
    b = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    b.sign_in("honest-idt")
    r = link(b, user_agent(lab.config, lab.store, "alice"))
    assert r.status_code == 303 and fired(r) == []
