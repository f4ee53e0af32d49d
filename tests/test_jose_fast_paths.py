"""The lab's own JWS verification and signing on loaded key objects (lab/jose/jws.py): what
joserfc and PyJWS refused before, these refuse too; what they signed, joserfc verifies."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from lab.jose import b64, jws
from lab.jose.jwk import thumbprint

ASYMMETRIC = ["ES256", "PS256", "EdDSA"]


@pytest.fixture(scope="module")
def key() -> ECKey:
    return ECKey.generate_key("P-256", auto_kid=True)


def _token(key: ECKey, header: dict[str, Any] | None = None) -> str:
    """Signed as given (jws.sign checks no header, so a header joserfc would not write can
    be tested)."""
    head = {"alg": "ES256", "kid": key.kid, **(header or {})}
    return jws.sign(head, {"sub": "client", "jti": "j"},
                    pyjwt.PyJWK(key.as_dict(private=True), algorithm="ES256"))


def _verify(token: str, keys: list[dict[str, Any]], algs: list[str] = ASYMMETRIC) -> None:
    jws.verify_with_jwks(jws.split_strict(token), keys, algs)


def test_a_good_assertion_verifies_by_kid_by_thumbprint_and_alone(key: ECKey) -> None:
    public = key.as_dict()
    _verify(_token(key), [{"kty": "EC", "kid": "other"}, public])
    bare = {k: v for k, v in public.items() if k != "kid"}
    _verify(_token(key, {"kid": thumbprint(bare)}), [bare])   # joserfc's implied kid
    no_kid = jwt.encode({"alg": "ES256"}, {"sub": "c"}, key, algorithms=["ES256"])
    _verify(no_kid, [public])


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace(".", ".!", 1),                    # outside the base64url alphabet
    lambda t: t + "=",                                    # padding
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),   # signature changed
    lambda t: "x" * 20000,                                # not a JWS, and too long
])
def test_malformed_or_tampered_is_refused(key: ECKey, mangle: Any) -> None:
    with pytest.raises(ValueError):
        _verify(mangle(_token(key)), [key.as_dict()])


@pytest.mark.parametrize("header", [
    {"crit": ["exp"], "exp": 1},      # RFC 7515 §4.1.11: an extension the lab does not know
    {"kid": 7},                       # kid must be a string
    {"kid": "unknown"},               # no registered key has it
])
def test_headers_joserfc_refused_are_refused(key: ECKey, header: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _verify(_token(key, header), [key.as_dict()])


def test_alg_and_key_must_fit(key: ECKey) -> None:
    with pytest.raises(ValueError):
        _verify(_token(key), [key.as_dict()], ["PS256"])          # alg not accepted
    with pytest.raises(ValueError):
        _verify(_token(key), [{**key.as_dict(), "alg": "ES384"}])  # the key is for another alg
    with pytest.raises(ValueError):
        _verify(_token(key), [{**key.as_dict(), "use": "enc"}])    # the key is not for signing
    other = ECKey.generate_key("P-256").as_dict()
    with pytest.raises(ValueError):
        _verify(jwt.encode({"alg": "ES256"}, {"sub": "c"}, key, algorithms=["ES256"]),
                [key.as_dict(), other])                             # no kid, two keys


def test_verify_parts_refuses_crit_and_bad_kid(key: ECKey) -> None:
    token = _token(key)
    head, body, sig = token.split(".")
    header, signed, signature = b64.json_segment(token, 0), f"{head}.{body}".encode(), \
        b64.decode(sig)
    jws.verify_parts(header, signed, signature, key.as_dict(), "ES256")
    for bad in ({**header, "crit": ["b64"], "b64": True}, {**header, "kid": ["x"]}):
        with pytest.raises(ValueError):
            jws.verify_parts(bad, signed, signature, key.as_dict(), "ES256")


def test_sign_is_verified_by_joserfc(key: ECKey) -> None:
    private = key.as_dict(private=True)
    token = jws.sign({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, {"sub": "é", "n": 1},
                     pyjwt.PyJWK(private, algorithm="ES256"))
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": [key.as_dict()]}),
                         algorithms=["ES256"])
    assert decoded.claims == {"sub": "é", "n": 1} and decoded.header["typ"] == "at+jwt"
