"""jar_required: authorization requests only as a request object signed by a key registered for
the client, by value or pushed (RFC 9101 §5, §6.2-6.3, §10.5; F1P2 §5.2.2; MS §5.3.1)."""

from __future__ import annotations

from tests.support import jar
from tests.support.oauth import (
    client_key,
    par_authorization_url,
    pkce_pair,
    push,
    redeem_with_assertion,
    run,
    victim,
)

ATTACKER_CB = "https://127.0.0.1:9446/callback"


def _object_only(**claims):
    """A PAR body with nothing but the request object (RFC 9126 §3)."""
    return dict(response_type=None, redirect_uri=None, scope=None, state=None, nonce=None,
                **claims)


def test_plain_query_request_is_served_when_off(lab, controls, fired):
    controls.only()
    result = run(lab)
    assert result.code and fired(result.response) == []


def test_plain_query_request_is_refused_when_on(lab, controls, fired):
    controls.only("jar_required")
    result = run(lab)
    assert result.response.status_code == 400 and result.callback_url is None
    assert result.error == "invalid_request_object"
    assert fired(result.response) == ["jar_required"]


def test_unsigned_request_object_is_taken_at_its_word_when_off(lab, controls, fired):
    controls.only()
    forged = jar.unsigned(jar.body(lab, redirect_uri=lab.config.tpp_url + "/callback/x"))
    result = victim(lab).authorize(jar.url(lab, forged))
    assert result.code and result.callback_url.startswith(lab.config.tpp_url + "/callback/x")
    assert fired(result.response) == []


def test_unsigned_request_object_is_refused_when_on(lab, controls, http, fired):
    controls.only("jar_required")
    r = http.get(jar.url(lab, jar.unsigned(jar.body(lab))), allow_redirects=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
    assert fired(r) == ["jar_required"]


def test_signed_request_object_runs_end_to_end_when_on(lab, controls, http):
    controls.only("jar_required", "pkce_required")
    verifier, challenge = pkce_pair()
    obj = jar.signed(lab, jar.body(lab, code_challenge=challenge, code_challenge_method="S256"))
    result = victim(lab).authorize(jar.url(lab, obj))
    assert result.code, result.response.text[:300]
    assert redeem_with_assertion(http, lab, result.code, verifier).status_code == 200


def test_only_a_registered_key_verifies_it_in_every_mode(lab, controls, http, fired):
    key, _ = client_key()
    for on in ((), ("jar_required",)):
        controls.only(*on)
        wrong = jar.signed(lab, jar.body(lab), key=key)
        # RFC 7515 §4.1.3: a jwk in the header is never the verification key.
        embedded = jar.signed(lab, jar.body(lab), key=key,
                              header={"jwk": key.as_dict(private=False)})
        for obj in (wrong, embedded, jar.signed(lab, jar.body(lab))[:-4] + "AAAA"):
            r = http.get(jar.url(lab, obj), allow_redirects=False)
            assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
            assert fired(r) == []


def test_contradicting_query_parameter_is_ignored_when_off(lab, controls):
    controls.only()
    obj = jar.signed(lab, jar.body(lab))
    result = victim(lab).authorize(jar.url(lab, obj, redirect_uri=ATTACKER_CB))
    # RFC 9101 §5: only the request object's parameters are used.
    assert result.code and result.callback_url.startswith(lab.config.tpp_url + "/callback")


def test_contradicting_query_parameter_is_refused_when_on(lab, controls, http, fired):
    controls.only("jar_required")
    obj = jar.signed(lab, jar.body(lab))
    r = http.get(jar.url(lab, obj, redirect_uri=ATTACKER_CB), allow_redirects=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
    assert fired(r) == ["jar_required"]


def test_iss_and_aud_are_checked_when_on(lab, controls, http, fired):
    controls.only()
    for claims in ({"iss": "someone"}, {"aud": "https://elsewhere.example"}):
        assert victim(lab).authorize(
            jar.url(lab, jar.signed(lab, jar.body(lab, **claims)))).code
    controls.only("jar_required")
    for claims in ({"iss": "someone"}, {"aud": "https://elsewhere.example"}, {"aud": None}):
        r = http.get(jar.url(lab, jar.signed(lab, jar.body(lab, **claims))),
                     allow_redirects=False)
        assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
        assert fired(r) == ["jar_required"]


def test_par_without_request_object_is_accepted_when_off(lab, controls, http, fired):
    controls.only()
    r = push(http, lab)
    assert r.status_code == 201 and fired(r) == []


def test_par_without_request_object_is_refused_when_on(lab, controls, http, fired):
    controls.only("jar_required")
    r = push(http, lab)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
    assert fired(r) == ["jar_required"]


def test_request_object_inside_par_is_used_when_on(lab, controls, http, fired):
    controls.only("jar_required", "par_required")
    r = push(http, lab, **_object_only(request=jar.signed(lab, jar.body(lab))))
    assert r.status_code == 201, r.text
    result = victim(lab).authorize(par_authorization_url(lab, r.json()["request_uri"]))
    assert result.code and fired(result.response) == []


def test_discovery_says_require_signed_request_object(lab, controls, http):
    url = lab.config.as_url + "/.well-known/openid-configuration"
    controls.only()
    meta = http.get(url).json()
    assert "require_signed_request_object" not in meta
    assert meta["request_parameter_supported"] is True
    assert "none" in meta["request_object_signing_alg_values_supported"]
    controls.only("jar_required")
    meta = http.get(url).json()
    assert meta["require_signed_request_object"] is True
    assert "none" not in meta["request_object_signing_alg_values_supported"]
