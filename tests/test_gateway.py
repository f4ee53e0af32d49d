"""The phantom-token gateway (docs/gateway.md) on a lab of its own with opaque access tokens.

FinLens holds a reference; the capture shows it on the FinLens → gateway leg and the
gateway's JWT on the gateway → bank leg. A stolen reference without the DPoP key, a forged
one, a revoked one, and a call that skips the gateway are refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from lab.capture.store import get_capture, list_captures
from lab.controls import events as lab_events
from lab.protocol import phantom
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from lab.tpp.driver import TppBrowser, user_agent
from lab.web.request_id import HEADER
from tests.conftest import Switches
from tests.support.dpop import DPoPKey, dpop_tokens, tpp_assertion
from tests.support.oauth import claims, header


@pytest.fixture(scope="module")
def opaque_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with private_lab(profile="fapi2-security", write_state=False, capture=True,
                     access_tokens="opaque",
                     data_dir=tmp_path_factory.mktemp("opaque-lab")) as running:
        yield running


@pytest.fixture
def switches(opaque_lab: RunningLab) -> Iterator[Switches]:
    s = Switches(opaque_lab)
    yield s
    s.restore()


@pytest.fixture
def web(opaque_lab: RunningLab) -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(opaque_lab.config.ca_cert_path)
    yield session
    session.close()


def fired(lab: RunningLab, response: requests.Response) -> list[str]:
    request_id = response.headers.get(HEADER)
    assert request_id, "response carries no X-Lab-Request-Id"
    return [e.control for e in lab_events.list_events(lab.store, request_id=request_id)
            if e.kind == "fired"]


def gateway_get(web: requests.Session, lab: RunningLab, key: DPoPKey | None, token: str,
                path: str = "/accounts", *, scheme: str = "DPoP") -> requests.Response:
    """A call at the gateway with a proof for its URL, once more with the nonce it asks for."""
    url = lab.config.gateway_url + path
    nonce = None
    for _ in range(2):
        headers = {"Authorization": f"{scheme} {token}"}
        if key is not None:
            headers["DPoP"] = key.proof("GET", url, token=token, nonce=nonce)
        response = web.get(url, headers=headers)
        if response.status_code == 401 and "use_dpop_nonce" in \
                response.headers.get("WWW-Authenticate", "") and nonce is None:
            nonce = response.headers.get("DPoP-Nonce")
            continue
        return response
    return response


def _link(lab: RunningLab) -> tuple[TppBrowser, Any]:
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(f"gw-{secrets.token_hex(3)}")
    agent = user_agent(lab.config, lab.store, "alice")
    result = agent.authorize(browser.start_link())
    assert result.callback_url, result.params
    assert browser.deliver(result.callback_url).status_code == 303
    return browser, agent


def _linked_accounts(browser: TppBrowser) -> list[Any]:
    [link] = browser.dashboard().links
    assert link.status == "active"
    return link.accounts


def test_honest_link_and_bank_call_in_jwt_mode(lab: RunningLab) -> None:
    """The default is today's lab: FinLens holds the AS's JWT and calls the bank itself."""
    assert "gateway" not in lab.apps and "gateway" not in lab.urls
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(f"gw-{secrets.token_hex(3)}")
    result = user_agent(lab.config, lab.store, "alice").authorize(browser.start_link())
    assert result.callback_url, result.params
    browser.deliver(result.callback_url)
    assert _linked_accounts(browser)
    row = lab.store.query_one("SELECT access_token FROM tpp_links ORDER BY rowid DESC LIMIT 1")
    assert header(str(row["access_token"]))["typ"] == "at+jwt"


def test_honest_link_in_opaque_mode_shows_the_reference_outside_and_the_jwt_inside(
        opaque_lab: RunningLab) -> None:
    lab = opaque_lab
    since = max([r["id"] for r in list_captures(lab.store, limit=100_000)] or [0])
    browser, _ = _link(lab)
    assert _linked_accounts(browser), "FinLens showed no accounts through the gateway"
    held = str(lab.store.query_one(
        "SELECT access_token FROM tpp_links ORDER BY rowid DESC LIMIT 1")["access_token"])
    assert "." not in held and len(held) < 64, "FinLens must hold a reference, not a JWT"

    rows = list_captures(lab.store, since_id=since, limit=1000)
    outside = [get_capture(lab.store, r["id"]) for r in rows
               if r["label"] == "gateway" and r["leg"] == "resource"]
    inside = [get_capture(lab.store, r["id"]) for r in rows
              if r["label"] == "bank" and r["leg"] == "resource"]
    assert outside and inside and len(inside) == len(outside)
    # One introspection for the whole dashboard: the gateway's cache answers the rest.
    assert sum(r["label"] == "as" and r["leg"] == "introspection" for r in rows) == 1

    def authorization(row: Any) -> str:
        return next(v for k, v in row["request_headers"] if k.lower() == "authorization")

    for row in outside:
        assert authorization(row).split(" ", 1)[1] == held
    for row in inside:
        scheme, inner = authorization(row).split(" ", 1)
        assert scheme == "Bearer" and header(inner)["typ"] == "at+jwt"
        inner_claims = claims(inner)
        assert inner_claims["sub"] == "alice" and inner_claims["iss"] == lab.config.issuer
        assert inner_claims["exp"] - inner_claims["iat"] <= phantom.INNER_LIFETIME
        # The gateway confirmed the DPoP key and said which one it saw.
        confirmed = dict((k.lower(), v) for k, v in row["request_headers"])
        assert confirmed[phantom.CONFIRMED_HEADER.lower()] == \
            f"jkt={inner_claims['cnf']['jkt']}"
        # ... and the client's address, for token_usage_monitoring at the bank.
        assert confirmed[phantom.FORWARDED_FOR_HEADER.lower()] == outside[0]["client_addr"]


def test_a_stolen_reference_without_the_dpop_key_is_refused_at_the_gateway(
        opaque_lab: RunningLab, web: requests.Session) -> None:
    lab = opaque_lab
    _link(lab)
    stolen = str(lab.store.query_one(
        "SELECT access_token FROM tpp_links ORDER BY rowid DESC LIMIT 1")["access_token"])
    thief = DPoPKey(lab)
    r = gateway_get(web, lab, thief, stolen)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert "dpop_bound_tokens" in fired(lab, r)
    r = gateway_get(web, lab, None, stolen, scheme="Bearer")
    assert r.status_code == 401 and "dpop_bound_tokens" in fired(lab, r)


def test_the_bank_refuses_what_did_not_come_through_the_gateway(
        opaque_lab: RunningLab, web: requests.Session) -> None:
    lab = opaque_lab
    since = max([r["id"] for r in list_captures(lab.store, limit=100_000)] or [0])
    _link(lab)
    held = str(lab.store.query_one(
        "SELECT access_token FROM tpp_links ORDER BY rowid DESC LIMIT 1")["access_token"])
    r = web.get(lab.config.bank_url + "/accounts", headers={"Authorization": f"DPoP {held}"})
    assert r.status_code == 401
    # Even the gateway's own JWT, copied off the inside leg, does not work from outside.
    inside = next(get_capture(lab.store, row["id"])
                  for row in list_captures(lab.store, since_id=since, limit=1000)
                  if row["label"] == "bank" and row["leg"] == "resource")
    headers = {k: v for k, v in inside["request_headers"]
               if k.lower() in ("authorization", phantom.CONFIRMED_HEADER.lower())}
    r = web.get(lab.config.bank_url + "/accounts", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


@pytest.mark.parametrize("token", ["x" * 43, secrets.token_urlsafe(32), "a.b.c",
                                   "eyJhbGciOiJub25lIn0.e30.", "x" * 9000, "ü" * 10, "%00"])
def test_a_forged_or_unknown_reference_gets_invalid_token(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches, token: str) -> None:
    r = web.get(opaque_lab.config.gateway_url + "/accounts",
                headers={"Authorization": f"DPoP {token}".encode()})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


def _tokens(lab: RunningLab, web: requests.Session, switches: Switches,
            *on: str) -> tuple[DPoPKey, str]:
    switches.only("dpop_bound_tokens", *on)
    key = DPoPKey(lab)
    body = dpop_tokens(web, lab, key)
    assert "." not in body["access_token"]
    return key, body["access_token"]


def _revoke(lab: RunningLab, web: requests.Session, token: str) -> None:
    r = web.post(lab.config.as_url + "/revoke", data={"token": token, **tpp_assertion(lab)})
    assert r.status_code == 200, r.text


def test_revocation_with_at_revocation_check_stops_the_next_call(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """The inner JWT keeps the token's jti, so the bank's check sees the revocation at once."""
    lab = opaque_lab
    key, token = _tokens(lab, web, switches, "at_revocation_check")
    assert gateway_get(web, lab, key, token).status_code == 200
    _revoke(lab, web, token)
    r = gateway_get(web, lab, key, token)
    assert r.status_code == 401 and "at_revocation_check" in fired(lab, r)


def test_revocation_without_the_bank_check_holds_within_the_cache_bound(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """With the bank trusting the JWT alone, the gateway's cache is the bound: one
    CACHE_SECONDS after the revocation, introspection says inactive and the gateway refuses."""
    lab = opaque_lab
    key, token = _tokens(lab, web, switches)
    assert gateway_get(web, lab, key, token).status_code == 200
    _revoke(lab, web, token)
    # Still believed from the cache: the bound is real, and it is what the lesson shows.
    assert gateway_get(web, lab, key, token).status_code == 200
    clock.advance(lab.store, phantom.CACHE_SECONDS + 1)
    r = gateway_get(web, lab, key, token)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_the_cache_is_bounded_in_entries_and_never_outlives_exp() -> None:
    cache = phantom.IntrospectionCache(seconds=30, entries=3)
    for i in range(10):
        cache.put(f"t{i}", {"active": False}, now=1000)
    assert len(cache) == 3 and cache.get("t0", 1000) is None and cache.get("t9", 1000)
    cache.put("short", {"active": True, "exp": 1005}, now=1000)
    assert cache.get("short", 1004) is not None and cache.get("short", 1005) is None
    cache.put("gone", {"active": True, "exp": 999}, now=1000)
    assert cache.get("gone", 1000) is None
    assert cache.get("t9", 1030) is None


def test_a_refresh_token_is_no_access_token_at_the_gateway(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    lab = opaque_lab
    switches.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    body = dpop_tokens(web, lab, key)
    if "refresh_token" not in body:
        pytest.skip("no refresh token issued")
    r = gateway_get(web, lab, key, body["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_the_gateway_routes_never_answer_bad_input_with_a_server_error(
        opaque_lab: RunningLab) -> None:
    from tests.test_bad_input_fuzz import _routes, fuzz_route

    failures: list[str] = []
    routes = [(rule, method) for name, rule, method in _routes(opaque_lab) if name == "gateway"]
    assert len(routes) >= 4
    for rule, method in routes:
        fuzz_route(opaque_lab.apps["gateway"].test_client(), opaque_lab.config.gateway_url,
                   rule, method, failures)
    assert not failures, "server errors on bad input:\n" + "\n".join(failures[:20])


TOKEN_TEXT = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=",
            min_size=1, max_size=200),
    st.integers(min_value=8000, max_value=200_000).map(lambda n: "A" * n),
    st.text(max_size=40), st.binary(max_size=40).map(lambda b: b.decode("latin-1")))


def test_garbage_and_huge_tokens_at_the_gateway_get_an_oauth_error(
        opaque_lab: RunningLab, switches: Switches) -> None:
    """Every token the gateway cannot admit is a 4xx with the RFC 6750 JSON, never a 5xx; the
    introspection cache stays bounded however many distinct tokens arrive."""
    client = opaque_lab.apps["gateway"].test_client()

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(token=TOKEN_TEXT, scheme=st.sampled_from(["DPoP", "Bearer", "dpop", "Basic", ""]),
           path=st.sampled_from(["/accounts", "/accounts/x/balances", "/payments"]))
    def one(token: str, scheme: str, path: str) -> None:
        response = client.get(path, base_url=opaque_lab.config.gateway_url,
                              headers={"Authorization": f"{scheme} {token}".encode(
                                  "latin-1", "replace")})
        assert 400 <= response.status_code < 500, (token[:80], response.status_code)
        assert response.get_json()["error"] in ("invalid_token", "unauthorized",
                                                "invalid_request", "request_header_too_large"), \
            response.get_data()[:200]

    one()
    gateway = opaque_lab.apps["gateway"].extensions["lab_gateway"]
    assert len(gateway.cache) <= gateway.cache.entries


def test_finlens_pays_through_the_gateway_once(opaque_lab: RunningLab,
                                               switches: Switches) -> None:
    """POST /payments with its body and Idempotency-Key, the grant's payment consent and its
    authorization_details: all of it reaches the bank through the gateway's JWT."""
    from lab.domain import ledger
    from tests.support.bank_tokens import account

    lab = opaque_lab
    switches.registry.set({"payment_consent_binding": True})
    browser, agent = _link(lab)
    [link] = browser.dashboard().links
    checking = account("alice", "checking")
    before = ledger.balance_cents(lab.store, checking)
    result = agent.authorize(browser.start_payment(link.link_id, "12.50"))
    assert result.callback_url, result.params
    done = browser.deliver(result.callback_url)
    assert done.status_code == 303 and done.headers["Location"].startswith("/payments/"), \
        done.text[:300]
    status = browser.http.get(browser.url(done.headers["Location"]))
    assert 'data-status="booked"' in status.text, status.text[:500]
    assert ledger.balance_cents(lab.store, checking) == before - 1250


def test_certificate_bound_tokens_are_checked_at_the_gateway(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """mTLS instead of DPoP: FinLens's certificate reaches the gateway (through the capture),
    the gateway confirms cnf.x5t#S256, and a thief without the certificate is refused there."""
    lab = opaque_lab
    switches.registry.set({"dpop_bound_tokens": False, "mtls_bound_tokens": True})
    since = max([r["id"] for r in list_captures(lab.store, limit=100_000)] or [0])
    browser, _ = _link(lab)
    assert _linked_accounts(browser), "FinLens showed no accounts through the gateway"
    inside = [get_capture(lab.store, r["id"])
              for r in list_captures(lab.store, since_id=since, limit=1000)
              if r["label"] == "bank" and r["leg"] == "resource"]
    assert inside
    for row in inside:
        sent = dict((k.lower(), v) for k, v in row["request_headers"])
        assert sent[phantom.CONFIRMED_HEADER.lower()].startswith("x5t#S256=")
    stolen = str(lab.store.query_one(
        "SELECT access_token FROM tpp_links ORDER BY rowid DESC LIMIT 1")["access_token"])
    r = gateway_get(web, lab, None, stolen, scheme="Bearer")
    assert r.status_code == 401 and "mtls_bound_tokens" in fired(lab, r)


def test_introspection_and_userinfo_take_the_reference(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """The AS's own endpoints resolve a reference to the JWT behind it (RFC 7662, OIDC §5.3)."""
    lab = opaque_lab
    switches.only()
    from tests.support.oauth import authorize, redeem

    code, verifier = authorize(lab, scope="openid accounts:read")
    body = redeem(web, lab, code, verifier).json()
    token = body["access_token"]
    assert "." not in token
    r = web.get(lab.config.as_url + "/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["sub"] == "alice", r.text
    r = web.post(lab.config.as_url + "/introspect", data={"token": token, **tpp_assertion(lab)})
    assert r.json()["active"] is True and r.json()["sub"] == "alice"
    r = web.get(lab.config.as_url + "/userinfo",
                headers={"Authorization": "Bearer " + secrets.token_urlsafe(32)})
    assert r.status_code == 401


@pytest.mark.parametrize(("path", "leg"), [("/accounts", "resource"), ("/payments", "resource"),
                                           ("/accounts/a/balances", "resource"),
                                           ("/favicon.ico", "other")])
def test_the_gateway_origin_is_a_resource_leg_in_the_capture(path: str, leg: str) -> None:
    from lab.capture import legs

    assert legs.classify_path("gateway", path) == leg


# --- signed introspection, message signatures and pushed SETs in opaque mode ----------------


def _tampered_introspection(case: str, lab: RunningLab) -> Any:
    """A wrapper for requests.Session.post that spoils the AS's answer to the gateway."""
    import base64
    import json

    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from lab.jose import b64

    original = requests.Session.post

    def post(self: requests.Session, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        response = original(self, url, *args, **kwargs)
        if not url.endswith("/introspect") or response.status_code != 200:
            return response
        signed = response.text
        head, payload, signature = signed.split(".")
        claims = b64.json_segment(signed, 1)
        if case == "unsigned":
            body = json.dumps(claims["token_introspection"]).encode()
            response.headers["Content-Type"] = "application/json"
        elif case == "altered":
            claims["token_introspection"]["sub"] = "bob"
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
            body = f"{head}.{forged.decode()}.{signature}".encode()
        else:  # signed by a key the AS does not publish, under the AS's kid
            body = pyjwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), "ES256",
                                headers=b64.json_segment(signed, 0)).encode()
        response._content = body
        return response

    return post


@pytest.mark.parametrize("case", ["unsigned", "altered", "foreign key"])
def test_the_gateway_believes_only_a_signed_introspection_answer(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches,
        monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """FAPI 2.0 Message Signing §5.5 / RFC 9701: the gateway asks for the signed answer and
    checks it against the AS's keys; a spoiled one is no answer (invalid_token, not cached)."""
    lab = opaque_lab
    key, token = _tokens(lab, web, switches)
    monkeypatch.setattr(requests.Session, "post", _tampered_introspection(case, lab))
    r = gateway_get(web, lab, key, token)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text
    monkeypatch.undo()
    assert gateway_get(web, lab, key, token).status_code == 200, "the bad answer was cached"


def test_the_gateway_asks_for_the_signed_answer_and_follows_as_key_rotation(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    lab = opaque_lab
    since = max([r["id"] for r in list_captures(lab.store, limit=100_000)] or [0])
    key, token = _tokens(lab, web, switches)
    assert gateway_get(web, lab, key, token).status_code == 200
    [leg] = [get_capture(lab.store, r["id"])
             for r in list_captures(lab.store, since_id=since, limit=1000)
             if r["label"] == "as" and r["leg"] == "introspection"]
    sent = {k.lower(): v for k, v in leg["request_headers"]}
    got = {k.lower(): v for k, v in leg["response_headers"]}
    assert sent["accept"] == "application/token-introspection+jwt"
    assert got["content-type"].startswith("application/token-introspection+jwt")


def _signed_call(web: requests.Session, lab: RunningLab, key: DPoPKey, token: str, method: str,
                 path: str, body: dict[str, Any] | None = None) -> requests.PreparedRequest:
    """A request FinLens would send at the gateway: DPoP proof and RFC 9421 signature for it."""
    from lab import keys
    from lab.jose import http_signatures as sig

    url = lab.config.gateway_url + path
    headers = {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token=token)}
    prepared = web.prepare_request(requests.Request(method, url, headers=headers, json=body))
    tpp_key = sig.JWSKey.from_jwk(keys.signing_key(keys.ensure_keyset(lab.config.keys_dir,
                                                                      "tpp"), "ES256"))
    sig.sign_request(prepared, prepared.body if isinstance(prepared.body, bytes) else None,
                     tpp_key, clock.now(lab.store))
    return prepared


def test_the_gateway_verifies_the_client_s_signature_and_signs_its_answer(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """RFC 9421 at the edge the client addressed: an altered payment body is refused there
    (401 invalid_request, the event on the attacker's request); an honest call's answer is
    signed with the key the gateway publishes, bound to the request FinLens signed."""
    from lab.jose import http_signatures as sig
    from tests.support.bank_tokens import account

    lab = opaque_lab
    key, token = _tokens(lab, web, switches, "http_message_signing")
    order = {"debtor_account_id": account("alice", "checking"),
             "creditor": {"name": "Corner Café", "iban": "GB33BUKB20201555555555"},
             "instructed_amount": {"amount": "25.00", "currency": "EUR"}, "reference": "x"}
    altered = _signed_call(web, lab, key, token, "POST", "/payments", order)
    altered.prepare_body(None, None, json={**order, "instructed_amount": {
        "amount": "2500.00", "currency": "EUR"}})
    r = web.send(altered)
    assert r.status_code == 401 and r.json()["error"] == "invalid_request", r.text
    assert fired(lab, r) == ["http_message_signing"]

    honest = _signed_call(web, lab, key, token, "GET", "/accounts")
    r = web.send(honest)
    assert r.status_code == 200, r.text
    published = sig.key_set(web.get(lab.config.gateway_url + "/.well-known/jwks.json").json())
    request = sig.Request("GET", str(honest.url), sig.Fields(honest.headers.items()))
    sig.verify_response(sig.Response(r.status_code, request, sig.Fields(r.headers.items())),
                        r.content, published, clock.now(lab.store))


def test_finlens_links_and_pays_with_message_signing_through_the_gateway(
        opaque_lab: RunningLab, switches: Switches) -> None:
    from lab.controls import events as events_module
    from lab.domain import ledger
    from tests.support.bank_tokens import account

    lab = opaque_lab
    switches.registry.set({"payment_consent_binding": True, "http_message_signing": True})

    def refusals() -> int:
        return sum(e.kind == "fired" for e in events_module.list_events(
            lab.store, control="http_message_signing", limit=100_000))

    before_events = refusals()
    browser, agent = _link(lab)
    [link] = browser.dashboard().links
    assert link.status == "active" and link.accounts, "FinLens dropped the gateway's answers"
    checking = account("alice", "checking")
    before = ledger.balance_cents(lab.store, checking)
    result = agent.authorize(browser.start_payment(link.link_id, "3.50"))
    assert result.callback_url, result.params
    done = browser.deliver(result.callback_url)
    assert done.status_code == 303 and done.headers["Location"].startswith("/payments/"), \
        done.text[:300]
    assert ledger.balance_cents(lab.store, checking) == before - 350
    assert refusals() == before_events, "a signature check failed on the honest flow"


def test_a_pushed_set_stops_an_opaque_link(opaque_lab: RunningLab) -> None:
    """FinLens cannot read a grant id from a reference: it keeps the token response's
    `grant_id`, and the SET's opaque sub_id finds the link by it."""
    from lab import context
    from lab.protocol import security_events as sets

    lab = opaque_lab
    browser, _ = _link(lab)
    [link] = browser.dashboard().links
    row = lab.store.query_one("SELECT grant_id, access_token FROM tpp_links WHERE id = ?",
                              (link.link_id,))
    assert row["grant_id"] and "." not in row["access_token"]
    with context.bound(lab.store, "bank"):
        assert sets.push(lab.config, client_id="tpp", grant_id="grant-of-someone-else",
                         username="alice", reason="not this one")
        assert browser.dashboard().links[0].status == "active"
        assert sets.push(lab.config, client_id="tpp", grant_id=row["grant_id"],
                         username="alice", reason="used elsewhere")
    assert browser.dashboard().links[0].status == "revoked"


def test_the_gateway_follows_an_as_key_rotation(
        opaque_lab: RunningLab, web: requests.Session, switches: Switches) -> None:
    """Last in the module (it leaves a key retiring): answers signed by a key the AS rotated
    in are verified after one kid-driven JWKS refetch, as at the bank."""
    from lab import context
    from lab.protocol import key_rotation

    lab = opaque_lab
    key, token = _tokens(lab, web, switches)
    assert gateway_get(web, lab, key, token).status_code == 200
    gateway = lab.apps["gateway"].extensions["lab_gateway"]
    fetches = gateway.as_keys.jwks().fetches
    with context.bound(lab.store, "admin"):
        rotated = key_rotation.rotate(lab.config, lab.store)
    clock.advance(lab.store, key_rotation.PUBLISH_AHEAD + 1)
    key, token = _tokens(lab, web, switches)
    r = gateway_get(web, lab, key, token)
    assert r.status_code == 200, r.text
    assert gateway.as_keys.jwks().fetches == fetches + 1
    with context.bound(lab.store, "gateway"):
        known = gateway.as_keys.jwks().keys()
    assert any(k.get("kid") == rotated["new_kid"] for k in known)


def test_an_unsigned_answer_is_invalid_token_and_unreachable_as_keys_are_503() -> None:
    from lab.protocol.introspection_jwt import MEDIA_TYPE
    from lab.protocol.issuer_keys import KeysUnavailable
    from lab.protocol.resource_errors import InvalidTokenError

    def unreachable() -> Any:
        raise KeysUnavailable("the AS's jwks_uri did not answer")

    with pytest.raises(InvalidTokenError):
        phantom.signed_answer("application/json", '{"active": true}', unreachable, "https://as")
    with pytest.raises(phantom.GatewayUnavailableError):
        phantom.signed_answer(MEDIA_TYPE, "a.b.c", unreachable, "https://as")
