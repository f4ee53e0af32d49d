"""The attacker's servers (attacks.md §0 "Lab fixtures") and what they change in the lab.

Attacker site, PartnerRewards and EvilBank run over TLS on ports of their own; FinLens
lists EvilBank and PartnerRewards; the honest AS issues PartnerRewards tokens for its own
audience (RFC 8707). Plus the measured configurations the generic catalog run cannot
express (a param, a profile with one extra control).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from attacker import fixtures, lookup, runner
from attacker.attack_context import AttackContext
from attacker.fixtures import evilbank
from attacker.outcome import PremiseViolation
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab
from lab.tpp import institutions
from lab.tpp.driver import TppBrowser, link, user_agent
from tests.attacks.conftest import story


@pytest.fixture
def fx(attack_lab: RunningLab) -> fixtures.Fixtures:
    return fixtures.ensure_running(attack_lab.config, attack_lab.store)


@pytest.fixture
def http(attack_lab: RunningLab) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(attack_lab.config.ca_cert_path)
    return session


@pytest.fixture
def saved(attack_lab: RunningLab) -> Iterator[None]:
    state = runner.SavedState(attack_lab.store)
    yield
    state.restore()
    institutions.forget_metadata()


def test_fixtures_run_over_tls_on_ports_of_their_own(attack_lab: RunningLab,
                                                     fx: fixtures.Fixtures,
                                                     http: requests.Session) -> None:
    lab_ports = {attack_lab.config.as_port, attack_lab.config.bank_port,
                 attack_lab.config.tpp_port}
    ports = {int(url.rsplit(":", 1)[1]) for url in fx.urls.values()}
    assert len(ports) == 3 and not ports & lab_ports
    assert fixtures.ensure_running(attack_lab.config, attack_lab.store) is fx
    for url in fx.urls.values():
        assert url.startswith("https://127.0.0.1:")
        assert http.get(url + "/.fixture", timeout=10).status_code == 200


def test_default_ports_next_to_a_default_lab() -> None:
    from lab.config import LabConfig

    assert fixtures.default_ports(LabConfig()) == {"site": 9446, "partner": 9447,
                                                   "evil_as": 9448}


def test_site_records_query_referer_and_form_and_serves_lures(
        fx: fixtures.Fixtures, http: requests.Session, attack_lab: RunningLab) -> None:
    since = fx.mark()
    http.get(fx.site + "/cb?code=abc&state=s", headers={"Referer": "https://x.example/p?q=1"})
    http.post(fx.site + "/form", data={"a": "1"})
    lure = http.get(fx.site + "/lure", params={"to": attack_lab.config.tpp_url + "/"},
                    allow_redirects=False)
    assert lure.status_code == 302 and lure.headers["Location"] == attack_lab.config.tpp_url + "/"
    got = fixtures.log.since(attack_lab.store, "site", since)
    assert [r.path for r in got] == ["/cb", "/form", "/lure"]
    assert got[0].query() == {"code": "abc", "state": "s"}
    assert got[0].referer == "https://x.example/p?q=1"
    assert got[1].form() == {"a": "1"}


def test_finlens_lists_evilbank_and_partnerrewards(fx: fixtures.Fixtures,
                                                   attack_lab: RunningLab,
                                                   http: requests.Session) -> None:
    page = http.get(attack_lab.config.tpp_url + "/link").text
    assert "EvilBank" in page and "PartnerRewards" in page
    evil = institutions.get(attack_lab.store, fixtures.EVILBANK_ID)
    partner = institutions.get(attack_lab.store, fixtures.PARTNER_ID)
    assert evil is not None and evil.issuer == evil.api_base == fx.evil_as
    assert partner is not None and partner.issuer == attack_lab.config.issuer
    assert partner.api_base == fx.partner
    meta = http.get(attack_lab.config.issuer + "/.well-known/openid-configuration").json()
    assert "rewards:read" in meta["scopes_supported"]


def test_evilbank_metadata_follows_the_plan(fx: fixtures.Fixtures,
                                            http: requests.Session) -> None:
    try:
        fx.evil_plan(token_endpoint="https://127.0.0.1:1/token", require_par=True)
        meta = http.get(fx.evil_as + "/.well-known/openid-configuration").json()
        assert meta["issuer"] == fx.evil_as
        assert meta["token_endpoint"] == "https://127.0.0.1:1/token"
        assert meta["require_pushed_authorization_requests"] is True
        assert meta["pushed_authorization_request_endpoint"] == fx.evil_as + "/par"
    finally:
        fx.evil_plan()
    meta = http.get(fx.evil_as + "/.well-known/openid-configuration").json()
    assert meta["token_endpoint"] == fx.evil_as + "/token"
    assert evilbank.plan(fx.store)["mode"] == "own"


def test_evilbank_claims_another_issuer_and_answers_in_jarm_when_asked(
        fx: fixtures.Fixtures, http: requests.Session) -> None:
    """The plan's `issuer` and `extra_jwks` (discovery-issuer-mismatch); response_mode=jwt in
    its own flow gets a JARM response signed with EvilBank's own key (JARM §2.1)."""
    extra = {"kty": "EC", "crv": "P-256", "kid": "other-as", "x": "x", "y": "y"}
    try:
        fx.evil_plan(issuer="https://127.0.0.1:1", extra_jwks=[extra])
        meta = http.get(fx.evil_as + "/.well-known/openid-configuration").json()
        assert meta["issuer"] == "https://127.0.0.1:1" and "jwt" in meta["response_modes_supported"]
        served = http.get(fx.evil_as + "/jwks").json()["keys"]
        assert extra in served and len(served) > 1
        r = http.get(fx.evil_as + "/authorize", allow_redirects=False,
                     params={"client_id": "tpp", "redirect_uri": "https://127.0.0.1:2/cb",
                             "state": "s1", "response_mode": "jwt"})
        [token] = [v for k, v in (p.split("=", 1) for p in r.headers["Location"].split("?", 1)[1]
                                  .split("&")) if k == "response"]
        own = [k for k in served if k != extra][0]
        claims = jwt.decode(token, jwt.PyJWK(own).key, algorithms=["ES256"], audience="tpp")
        assert (claims["iss"], claims["state"]) == ("https://127.0.0.1:1", "s1")
        assert claims["code"].startswith("evil-")
    finally:
        fx.evil_plan()


def test_only_an_evil_as_attacker_reads_evilbanks_log(fx: fixtures.Fixtures,
                                                      attack_lab: RunningLab) -> None:
    a5 = lookup.get("at-replay-bearer")
    ctx = AttackContext(a5, attack_lab.config, attack_lab.store, capture_since=0)
    with pytest.raises(PremiseViolation):
        fx.received(ctx, "evil_as", since=0)
    assert isinstance(fx.received(ctx, "site", since=fx.mark()), list)


def test_fixtures_of_another_process_are_reused(fx: fixtures.Fixtures,
                                                attack_lab: RunningLab) -> None:
    found = fixtures._elsewhere(attack_lab.config, attack_lab.store)
    assert found is not None and found.urls == fx.urls and not found.started_here
    attack_lab.store.set_setting(fixtures.SETTING_KEY, {**fx.urls, "instance": "other"})
    try:
        assert fixtures._elsewhere(attack_lab.config, attack_lab.store) is None
    finally:
        attack_lab.store.set_setting(fixtures.SETTING_KEY,
                                     {**fx.urls, "instance": _instance(fx)})


def _instance(fx: fixtures.Fixtures) -> str:
    r = requests.get(fx.site + "/.fixture", verify=str(fx.config.ca_cert_path), timeout=10)
    return str(r.json()["instance"])


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_rewards_page_sends_a_partner_token(fx: fixtures.Fixtures, attack_lab: RunningLab,
                                            saved: None, profile: str) -> None:
    """FinLens asks for a rewards:read token for PartnerRewards (RFC 8707 resource); the AS
    names the partner as aud only with aud_check on (legacy: audience-less)."""
    Registry(attack_lab.store).apply_profile(profile)
    browser = TppBrowser(attack_lab.config.tpp_url, str(attack_lab.config.ca_cert_path))
    browser.sign_in(f"rewards-{secrets.token_hex(3)}")
    assert link(browser, user_agent(attack_lab.config, attack_lab.store)).status_code in (
        200, 303)
    since = fx.mark()
    page = browser.http.get(browser.url("/rewards"))
    assert 'data-testid="points"' in page.text
    call = fixtures.log.since(attack_lab.store, "partner", since, path="/points")[-1]
    claims = _claims((call.header("Authorization") or "").split(" ", 1)[1])
    assert claims["scope"] == "rewards:read"
    if profile == "legacy":
        assert "aud" not in claims
    else:
        assert claims["aud"] == fx.partner and "cnf" in claims


def test_the_as_refuses_an_unknown_resource(fx: fixtures.Fixtures, attack_lab: RunningLab,
                                            http: requests.Session, saved: None) -> None:
    Registry(attack_lab.store).apply_profile("legacy")
    browser = TppBrowser(attack_lab.config.tpp_url, str(attack_lab.config.ca_cert_path))
    name = f"target-{secrets.token_hex(3)}"
    browser.sign_in(name)
    link(browser, user_agent(attack_lab.config, attack_lab.store))
    row = attack_lab.store.query_one(
        "SELECT l.refresh_token FROM tpp_links l JOIN tpp_users u ON u.id = l.user_id "
        "WHERE u.username = ?", (name,))
    creds = json.loads((attack_lab.config.data_dir / "secrets" / "tpp-client.json").read_text())
    form = {"grant_type": "refresh_token", "refresh_token": row["refresh_token"],
            "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    unknown = http.post(attack_lab.config.issuer + "/token",
                        data={**form, "resource": "https://127.0.0.1:1"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_target"
    known = http.post(attack_lab.config.issuer + "/token", data={**form, "resource": fx.partner})
    assert known.status_code == 200


# --- configurations the generic catalog run cannot express ----------------------------------
def _run(attack_lab: RunningLab, attack_id: str, configuration: runner.Configuration
         ) -> Any:
    state = runner.SavedState(attack_lab.store)
    try:
        return runner.run(lookup.get(attack_id), attack_lab.config, attack_lab.store,
                          configuration)
    finally:
        state.restore()


def test_cuckoos_token_is_blocked_by_per_as_keys_with_a_sender_constraint(
        attack_lab: RunningLab) -> None:
    outcome = _run(attack_lab, "cuckoos-token",
                   runner.Configuration("fapi2-security", {"tpp_per_as_keys": True}))
    assert outcome.status == "blocked", story(outcome)
    assert "dpop_bound_tokens" in outcome.fired_controls, story(outcome)


def test_assertion_audience_injection_is_blocked_with_the_issuer_aud(
        attack_lab: RunningLab) -> None:
    outcome = _run(attack_lab, "client-assertion-audience-injection",
                   runner.Configuration("legacy", {"client_assertion_aud_check": True,
                                                   "tpp_assertion_aud_issuer": True}))
    assert outcome.status == "blocked", story(outcome)
    assert "client_assertion_aud_check" in outcome.fired_controls, story(outcome)


def test_issuer_only_audience_without_the_issuer_aud_breaks_finlens_not_the_attacker(
        attack_lab: RunningLab) -> None:
    """FinLens still names the token endpoint, so issuer_only refuses FinLens's own token
    request: the attack never runs, which is not a block (issue 14)."""
    outcome = _run(attack_lab, "client-assertion-audience-injection",
                   runner.Configuration("legacy", {"client_assertion_aud_check": True},
                                        {"client_assertion_aud_check": {"issuer_only": True}}))
    assert outcome.status == "victim-failed", story(outcome)
    assert outcome.victim_fired == ["client_assertion_aud_check"], story(outcome)
    assert not outcome.fired_controls, story(outcome)


def test_assertion_audience_injection_passes_the_default_audience_check(
        attack_lab: RunningLab) -> None:
    """The reason for not_alone: the endpoint URL is an accepted aud by default."""
    outcome = _run(attack_lab, "client-assertion-audience-injection",
                   runner.Configuration("legacy", {"client_assertion_aud_check": True}))
    assert outcome.status == "succeeded", story(outcome)
