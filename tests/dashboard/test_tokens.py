"""The token inspector's logic: find, classify, verify and time JWTs; bad input never raises."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from attacker import forged_jws
from dashboard import claims, data, token_keys, tokens
from lab import keys
from lab.serving.in_process import RunningLab
from lab.tpp import dpop_signer as tpp_dpop

ISSUER = "https://as.test"
BANK = "https://bank.test"


class Ring:
    """The keys a verifier holds, without a lab: the AS's JWKS and registered clients."""

    def __init__(self, as_keys: list[dict[str, Any]], clients: dict[str, list[dict[str, Any]]]
                 ) -> None:
        self.issuer = ISSUER
        self._as = as_keys
        self._clients = clients

    def as_keys(self) -> list[dict[str, Any]]:
        return self._as

    def client_keys(self, client_id: str) -> list[dict[str, Any]] | None:
        return self._clients.get(client_id)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Keys made the way the lab makes its own (lab.keys), for an AS, a client and a DPoP key."""
    folder = tmp_path_factory.mktemp("token-keys")
    as_private = keys.ensure_keyset(folder, "as")
    client_private = keys.ensure_keyset(folder, "tpp")
    dpop_private = keys.ensure_keyset(folder, "dpop", ("ES256",))
    ring = Ring(keys.public_jwks(as_private)["keys"],
                {"tpp": keys.public_jwks(client_private)["keys"], "public-client": []})
    return {"as": keys.signing_key(as_private), "client": keys.signing_key(client_private),
            "dpop": keys.signing_key(dpop_private), "ring": ring,
            "attacker": keys.signing_key(keys.ensure_keyset(folder, "attacker", ("ES256",)))}


def access_token(material: dict[str, Any], **extra: Any) -> str:
    now = int(time.time())
    signer = tpp_dpop.Signer(material["dpop"])
    claims_ = {"iss": ISSUER, "sub": "alice", "aud": BANK, "client_id": "tpp",
               "scope": "accounts:read", "jti": "j1", "iat": now, "exp": now + 300,
               "cnf": {"jkt": signer.jkt}, **extra}
    return forged_jws.sign_with(material["as"], {"typ": "at+jwt", "kid": material["as"]["kid"]},
                           claims_)


def segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_an_access_token_of_the_as_is_verified_with_the_as_key_that_signed_it(material) -> None:  # type: ignore[no-untyped-def]
    seen = tokens.inspect(access_token(material), material["ring"], time.time())
    assert seen.kind == "access_token"
    assert seen.verdict is not None and seen.verdict.ok, seen.verdict
    assert seen.verdict.kid == material["as"]["kid"] and seen.verdict.owner == "the AS"
    assert seen.jkt == tpp_dpop.Signer(material["dpop"]).jkt


def test_a_token_whose_claims_were_changed_after_signing_fails(material) -> None:  # type: ignore[no-untyped-def]
    head, body, signature = access_token(material).split(".")
    changed = {**tokens.decode(access_token(material)).claims, "sub": "mallory"}
    seen = tokens.inspect(f"{head}.{segment(changed)}.{signature}", material["ring"], time.time())
    assert seen.verdict is not None and not seen.verdict.ok
    assert "does not match" in seen.verdict.text


def test_alg_none_is_reported_as_unsigned(material) -> None:  # type: ignore[no-untyped-def]
    token = forged_jws.sign_none({"typ": "at+jwt"}, tokens.decode(access_token(material)).claims)
    seen = tokens.inspect(token, material["ring"], time.time())
    assert seen.verdict is not None and not seen.verdict.ok
    assert "alg none" in seen.verdict.text and "alg_allow_list" in seen.verdict.text


def test_hs256_keyed_with_the_as_public_key_is_named_as_key_confusion(material) -> None:  # type: ignore[no-untyped-def]
    published = material["ring"].as_keys()[0]
    token = forged_jws.sign_hs256({"typ": "at+jwt", "kid": published["kid"]},
                             tokens.decode(access_token(material)).claims,
                             forged_jws.public_pem(published))
    verdict = tokens.inspect(token, material["ring"], time.time()).verdict
    assert verdict is not None and not verdict.ok
    assert "PUBLIC key" in verdict.text and verdict.kid == published["kid"]


def test_an_unknown_kid_is_named_with_the_keys_the_as_does_publish(material) -> None:  # type: ignore[no-untyped-def]
    token = forged_jws.sign_with(material["attacker"], {"typ": "at+jwt", "kid": "old-key"},
                            tokens.decode(access_token(material)).claims)
    verdict = tokens.inspect(token, material["ring"], time.time()).verdict
    assert verdict is not None and not verdict.ok
    assert "Unknown kid 'old-key'" in verdict.text and material["as"]["kid"] in verdict.text


def test_a_token_verified_only_by_its_own_embedded_key_is_called_a_forgery(material) -> None:  # type: ignore[no-untyped-def]
    own = {k: material["attacker"][k] for k in ("kty", "crv", "x", "y")}
    token = forged_jws.sign_with(material["attacker"], {"typ": "at+jwt", "jwk": own},
                            tokens.decode(access_token(material)).claims)
    verdict = tokens.inspect(token, material["ring"], time.time()).verdict
    assert verdict is not None and not verdict.ok
    assert "own jwk header" in verdict.text and "trusted_keys_only" in verdict.text


def test_a_client_assertion_is_verified_with_the_client_registered_key(material) -> None:  # type: ignore[no-untyped-def]
    from lab.tpp import assertion

    token = assertion.make("tpp", material["client"], "ES256", ISSUER)
    found = tokens.Found(token, "form client_assertion", "client_assertion")
    seen = tokens.inspect(found, material["ring"], time.time())
    assert seen.kind == "client_assertion"
    assert seen.verdict is not None and seen.verdict.ok
    assert seen.verdict.owner == "client tpp" and seen.verdict.kid == material["client"]["kid"]
    stranger = assertion.make("nobody", material["client"], "ES256", ISSUER)
    verdict = tokens.inspect(tokens.Found(stranger, "form client_assertion", "client_assertion"),
                             material["ring"], time.time()).verdict
    assert verdict is not None and not verdict.ok and "No client 'nobody'" in verdict.text


def test_a_request_object_and_a_jarm_response_are_checked_with_their_signers_keys(
        material) -> None:  # type: ignore[no-untyped-def]
    request = forged_jws.sign_with(material["client"], {"typ": "oauth-authz-req+jwt",
                                                   "kid": material["client"]["kid"]},
                              {"iss": "tpp", "client_id": "tpp", "aud": ISSUER,
                               "redirect_uri": "https://tpp.test/cb", "scope": "openid"})
    jarm = forged_jws.sign_with(material["as"], {"kid": material["as"]["kid"]},
                           {"iss": ISSUER, "aud": "tpp", "code": "c", "state": "s"})
    capture = {"id": 4, "leg": "authz_request", "method": "GET",
               "url": f"{ISSUER}/authorize?client_id=tpp&request={request}",
               "response_headers": [["Location", f"https://tpp.test/cb?response={jarm}"]]}
    found = tokens.find_in_capture(capture)
    seen = [tokens.inspect(f, material["ring"], time.time()) for f in found]
    assert [(one.kind, one.verdict.owner if one.verdict else None) for one in seen] == \
        [("request_object", "client tpp"), ("jarm_response", "the AS")]
    assert all(one.verdict and one.verdict.ok for one in seen)


def resource_capture(material: dict[str, Any], url: str, proof_url: str) -> dict[str, Any]:
    token = access_token(material)
    proof = tpp_dpop.Signer(material["dpop"]).proof("GET", proof_url, access_token=token)
    return {"id": 7, "leg": "resource", "method": "GET", "url": url, "status": 200,
            "request_headers": [["Authorization", f"DPoP {token}"], ["DPoP", proof]],
            "request_body": None, "response_headers": [], "response_body": "{}"}


def test_a_dpop_proof_shows_its_jkt_and_matches_the_token_and_request_it_came_with(
        material) -> None:  # type: ignore[no-untyped-def]
    url = BANK + "/accounts"
    found = tokens.find_in_capture(resource_capture(material, url + "?x=1", url))
    assert [f.where for f in found] == ["Authorization: DPoP header", "DPoP header"]
    seen = tokens.inspect(found[1], material["ring"], time.time())
    assert seen.kind == "dpop_proof" and seen.verdict is not None and seen.verdict.ok
    assert seen.jkt == tpp_dpop.Signer(material["dpop"]).jkt
    assert {c.name: c.ok for c in seen.checks} == {"htm": True, "htu": True, "cnf.jkt": True,
                                                   "ath": True}
    assert found[1].label(seen.kind) == "#7 resource request · DPoP proof"


def test_a_proof_made_for_another_url_fails_the_htu_check(material) -> None:  # type: ignore[no-untyped-def]
    capture = resource_capture(material, BANK + "/payments", BANK + "/accounts")
    proof = tokens.find_in_capture(capture)[1]
    checks = {c.name: c.ok for c in tokens.inspect(proof, material["ring"], time.time()).checks}
    assert checks["htu"] is False and checks["ath"] is True


def test_an_id_token_presented_as_an_access_token_fails_the_typ_check(material) -> None:  # type: ignore[no-untyped-def]
    id_token = forged_jws.sign_with(material["as"], {"typ": "JWT", "kid": material["as"]["kid"]},
                               {"iss": ISSUER, "sub": "alice", "aud": BANK, "nonce": "n"})
    capture = {"id": 9, "leg": "resource", "method": "GET", "url": BANK + "/accounts",
               "request_headers": [["Authorization", f"Bearer {id_token}"]]}
    seen = tokens.inspect(tokens.find_in_capture(capture)[0], material["ring"], time.time())
    assert seen.kind == "access_token" and seen.verdict is not None and seen.verdict.ok
    assert {c.name: c.ok for c in seen.checks} == {"typ": False, "aud": True}


def test_a_token_response_yields_its_jwts_but_not_an_opaque_refresh_token(material) -> None:  # type: ignore[no-untyped-def]
    body = {"access_token": access_token(material), "refresh_token": "opaque-value",
            "id_token": forged_jws.sign_with(material["as"], {"kid": material["as"]["kid"]},
                                        {"iss": ISSUER, "aud": ["tpp"], "nonce": "n"})}
    capture = {"id": 3, "leg": "token", "method": "POST", "url": ISSUER + "/token",
               "request_headers": [], "request_body": "grant_type=authorization_code",
               "response_headers": [["Location", "https://x/cb#id_token=" + body["id_token"]]],
               "response_body": json.dumps(body)}
    found = tokens.find_in_capture(capture)
    kinds = [tokens.classify_found(f, ISSUER) for f in found]
    assert kinds == ["id_token", "access_token", "id_token"]
    assert [f.label(k) for f, k in zip(found, kinds, strict=True)][1] == \
        "#3 token response · access token"


@pytest.mark.parametrize(("header", "claims_", "hint", "kind"), [
    ({"typ": "at+jwt"}, {}, "id_token", "access_token"),
    ({"typ": "application/dpop+jwt"}, {}, None, "dpop_proof"),
    ({"typ": "oauth-authz-req+jwt"}, {}, None, "request_object"),
    ({"typ": "JWT"}, {"iss": "tpp"}, "client_assertion", "client_assertion"),
    ({}, {"iss": ISSUER, "nonce": "n"}, None, "id_token"),
    ({}, {"iss": ISSUER, "scope": "x"}, None, "access_token"),
    ({}, {"iss": "c", "sub": "c", "aud": ISSUER, "jti": "1"}, None, "client_assertion"),
    ({}, {"redirect_uri": "https://x"}, None, "request_object"),
    ({}, {"iss": "https://elsewhere"}, None, "unknown"),
])
def test_the_kind_comes_from_typ_then_where_then_claims(header, claims_, hint, kind) -> None:  # type: ignore[no-untyped-def]
    assert tokens.classify(header, claims_, hint, ISSUER) == kind


def test_time_claims_read_in_words_against_the_lab_clock() -> None:
    now = 1_800_000_000.0
    words, expired = tokens.time_words({"exp": now - 180, "iat": now - 480}, now)
    assert expired and words["exp"].startswith("expired 3 min ago")
    assert words["iat"].startswith("issued 8 min ago")
    words, expired = tokens.time_words({"exp": now + 240, "nbf": now + 30}, now)
    assert not expired and words["exp"].startswith("expires in 4 min")
    assert words["nbf"].startswith("not valid for another 30 s")
    assert "not a number" in tokens.time_words({"exp": "soon"}, now)[0]["exp"]


@pytest.mark.parametrize(("text", "says"), [
    ("", "nothing to decode"),
    ("hello", "three parts"),
    ("a.b.c.d.e", "JWE"),
    ("eyJhbGciOiJub25lIn0.!!!.x", "base64url characters"),
    ("eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.sig", "claims (part 2) decodes, but not to JSON"),
    ("WzFd.e30.sig", "header (part 1) is JSON, but not an object"),
])
def test_garbage_gives_a_clear_error_and_nothing_else(material, text, says) -> None:  # type: ignore[no-untyped-def]
    seen = tokens.inspect(text, material["ring"], time.time())
    assert seen.decoded is None and seen.verdict is None
    assert seen.error is not None and says in seen.error


FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=200, **FUZZ)  # type: ignore[arg-type]
@given(hs.text(max_size=300))
def test_any_text_is_inspected_without_raising(material, text: str) -> None:  # type: ignore[no-untyped-def]
    seen = tokens.inspect(text, material["ring"], time.time())
    assert (seen.error is not None) or (seen.decoded is not None and seen.verdict is not None)


SCALARS = hs.none() | hs.booleans() | hs.integers() | hs.floats() | hs.text(max_size=20)
VALUES = hs.recursive(SCALARS,
                      lambda inner: hs.lists(inner, max_size=3)
                      | hs.dictionaries(hs.text(max_size=5), inner, max_size=3), max_leaves=8)
FIELDS = hs.sampled_from(["alg", "kid", "typ", "jwk", "iss", "sub", "aud", "exp", "iat", "nbf",
                          "cnf", "htu", "htm", "ath", "client_id", "x"])


@settings(max_examples=150, **FUZZ)  # type: ignore[arg-type]
@given(hs.dictionaries(FIELDS, VALUES | hs.sampled_from(["none", "HS256", "ES256", "at+jwt",
                                                        "dpop+jwt", ISSUER])),
       hs.dictionaries(FIELDS, VALUES | hs.sampled_from([ISSUER, "tpp"])),
       hs.binary(max_size=80))
def test_any_decodable_header_and_claims_are_inspected_without_raising(
        material, header: dict[str, Any], claims_: dict[str, Any], signature: bytes) -> None:  # type: ignore[no-untyped-def]
    token = f"{segment(header)}.{segment(claims_)}." + \
        base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    seen = tokens.inspect(token, material["ring"], time.time())
    assert seen.error is None, seen.error
    assert seen.verdict is not None and isinstance(seen.verdict.text, str)
    assert len(claims.claim_rows(claims_, seen.kind, seen.times)) == len(claims_)


def test_cnf_is_explained_by_what_it_binds_to() -> None:
    dpop = claims.claim_note("cnf", "access_token", {"jkt": "x"})
    mtls = claims.claim_note("cnf", "access_token", {"x5t#S256": "x"})
    assert dpop is not None and dpop.control == "dpop_bound_tokens" and "RFC 9449" in dpop.spec
    assert mtls is not None and mtls.control == "mtls_bound_tokens" and "RFC 8705" in mtls.spec
    assert claims.claim_note("aud", "client_assertion").spec.startswith("RFC 7523 §3")  # type: ignore[union-attr]
    assert claims.claim_note("aud", "access_token").control == "aud_check"  # type: ignore[union-attr]


# --- with the lab's own traffic ----------------------------------------------------------------

@pytest.fixture
def captured(fapi2_tokens: list[tokens.Found]) -> list[tokens.Found]:
    return fapi2_tokens


def lab_ring(dash_lab: RunningLab) -> token_keys.LabKeys:
    lab = data.connect()
    return token_keys.LabKeys(lab.config.issuer, str(lab.config.ca_cert_path), lab.metadata,
                              token_keys.store_client_lookup(lab.config))


def test_every_jwt_of_a_real_flow_verifies_with_the_key_its_kind_calls_for(
        captured: list[tokens.Found], dash_lab: RunningLab) -> None:
    ring = lab_ring(dash_lab)
    seen = [tokens.inspect(f, ring, time.time()) for f in captured]
    by_kind: dict[str, set[str | None]] = {}
    for one in seen:
        assert one.verdict is not None and one.verdict.ok, (one.kind, one.verdict)
        by_kind.setdefault(one.kind, set()).add(one.verdict.owner)
    assert by_kind["access_token"] == {"the AS"} and by_kind["id_token"] == {"the AS"}
    assert by_kind["client_assertion"] == {"client tpp"}
    assert by_kind["dpop_proof"] == {"the proof's own jwk header"}
    bound = {one.jkt for one in seen if one.kind == "access_token"}
    assert {one.jkt for one in seen if one.kind == "dpop_proof"} == bound
    replay = next(one for one in seen if one.found and "Bearer" in one.found.where)
    assert {c.name: c.ok for c in replay.checks}["cnf.jkt"] is False


def test_a_real_token_tampered_with_fails_against_the_lab_keys(
        captured: list[tokens.Found], dash_lab: RunningLab) -> None:
    token = next(f.token for f in captured if f.where == "response access_token")
    head, _, signature = token.split(".")
    changed = {**tokens.decode(token).claims, "scope": "payments:write"}
    verdict = tokens.inspect(f"{head}.{segment(changed)}.{signature}", lab_ring(dash_lab),
                             time.time()).verdict
    assert verdict is not None and not verdict.ok and "does not match" in verdict.text


def test_the_lab_clock_is_read_from_the_admin_api(dash_lab: RunningLab) -> None:
    now, words = token_keys.lab_now(data.connect().clock)
    assert abs(now - time.time()) < 60 and words.startswith("lab clock")
    now, words = token_keys.lab_now(lambda: (_ for _ in ()).throw(OSError("down")))
    assert "did not answer" in words


def test_keys_that_cannot_be_loaded_give_a_verdict_not_an_exception(tmp_path: Path) -> None:
    def broken() -> dict[str, Any]:
        raise data.LabUnavailableError("the AS is down")

    ring = token_keys.LabKeys(ISSUER, str(tmp_path / "ca.pem"), broken, lambda _: None)
    token = f"{segment({'alg': 'ES256', 'typ': 'at+jwt'})}.{segment({'iss': ISSUER})}.c2ln"
    verdict = tokens.inspect(token, ring, time.time()).verdict
    assert verdict is not None and not verdict.ok and "the AS is down" in verdict.text
