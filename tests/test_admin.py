"""The admin API on the AS origin: token required; controls, profiles, events, clock; no 500s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import clock
from lab.controls import catalog
from lab.controls import events as lab_events
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab

ROUTES = [
    ("GET", "/status"), ("GET", "/controls"), ("GET", "/controls/pkce_required"),
    ("POST", "/controls"), ("POST", "/profile"), ("GET", "/profiles"), ("GET", "/events"),
    ("POST", "/clock/advance"), ("GET", "/clock"), ("POST", "/clock/reset"),
    ("GET", "/workshop"), ("POST", "/workshop/1"), ("GET", "/keys"), ("POST", "/keys/rotate"),
    ("POST", "/tpp/rotate-secret"),
]


class Admin:
    """Calls /admin over real TLS with the token from the data directory."""

    def __init__(self, lab: RunningLab, http: requests.Session) -> None:
        self.base = lab.config.as_url + "/admin"
        self.http = http
        self.token = lab.config.admin_token_path.read_text().strip()

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
             ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.http.request(method, self.base + path, headers=headers, timeout=10, **kw)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.call("POST", path, json=body)


@pytest.fixture
def https(lab: RunningLab) -> Iterator[requests.Session]:
    """Trusts the lab CA only. trust_env=False: requests lets $REQUESTS_CA_BUNDLE override a
    session's `verify` (psf/requests#3829), which would distrust the lab CA."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(lab.config.ca_cert_path)
    yield session
    session.close()


@pytest.fixture
def admin(lab: RunningLab, https: requests.Session, controls: Any) -> Admin:
    """Depends on `controls`, so every switch, parameter and clock change is undone."""
    return Admin(lab, https)


def assert_error(r: requests.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]
    for word in words:
        assert word in body["error_description"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_every_admin_route_refuses_without_the_admin_token(
        lab: RunningLab, https: requests.Session, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    r = https.request(method, lab.config.as_url + "/admin" + path, headers=headers, json={},
                     timeout=10)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.headers["Cache-Control"] == "no-store"


def test_status_names_urls_issuer_ca_profile_controls_and_clock(admin: Admin, lab: RunningLab
                                                                ) -> None:
    body = admin.get("/status").json()
    assert body["as"] == lab.config.as_url
    assert body["bank"] == lab.config.bank_url
    assert body["tpp"] == lab.config.tpp_url
    assert body["issuer"] == lab.config.issuer
    assert body["ca_cert"] == str(lab.config.ca_cert_path)
    assert body["profile"] == Registry(lab.store).profile()
    assert body["enabled_controls"] == sorted(Registry(lab.store).enabled())
    assert body["clock_offset"] == 0.0


def test_controls_lists_every_catalog_control_with_its_state(admin: Admin, lab: RunningLab
                                                             ) -> None:
    body = admin.get("/controls").json()
    on = Registry(lab.store).enabled()
    assert [c["id"] for c in body["controls"]] == [c.id for c in catalog.CONTROLS]
    for c in body["controls"]:
        assert c["on"] is (c["id"] in on)
        assert {"title", "checks", "enforced_at", "refusal", "spec", "profiles"} <= set(c)


def test_one_control_shows_teaching_text_profiles_and_its_five_places(admin: Admin) -> None:
    body = admin.get("/controls/short_access_token_lifetime").json()
    assert body["teaching"] == catalog.get("short_access_token_lifetime").teaching
    assert body["requires"] == ["token_expiry_check"]
    assert body["profiles"]["fapi2-security"] == "◐"
    assert body["profiles"]["legacy"] is None
    assert body["docs_expected"] == "docs/controls/short_access_token_lifetime.md"
    assert body["test_expected"] == "tests/controls/test_short_access_token_lifetime.py"
    assert "enforcement_points" in body


def test_unknown_control_is_a_404_naming_it(admin: Admin) -> None:
    assert_error(admin.get("/controls/no_such_control"), 404, "no_such_control")


def test_switching_a_control_off_and_on_changes_the_registry(admin: Admin, lab: RunningLab
                                                             ) -> None:
    registry = Registry(lab.store)
    admin.post("/profile", {"name": "fapi2-security"})
    r = admin.post("/controls", {"changes": {"pkce_required": False}})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == {"pkce_required": False}
    assert not registry.is_on("pkce_required")
    assert registry.profile() == "fapi2-security*"
    admin.post("/controls", {"changes": {"pkce_required": "on"}})
    assert registry.is_on("pkce_required")
    assert registry.profile() == "fapi2-security"


def test_switching_on_a_control_brings_what_it_requires_and_says_so(admin: Admin,
                                                                    lab: RunningLab) -> None:
    admin.post("/profile", {"name": "legacy"})
    r = admin.post("/controls", {"changes": {"short_access_token_lifetime": True}})
    assert any("token_expiry_check" in note for note in r.json()["notes"])
    assert Registry(lab.store).is_on("token_expiry_check")


def test_parameters_take_the_type_of_their_default(admin: Admin, lab: RunningLab) -> None:
    r = admin.post("/controls", {"params": {"code_short_lifetime": {"lifetime": "30"},
                                            "alg_allow_list": {"algorithms": "ES256,PS256"}}})
    assert r.status_code == 200, r.text
    registry = Registry(lab.store)
    assert registry.params("code_short_lifetime")["lifetime"] == 30
    assert registry.params("alg_allow_list")["algorithms"] == ["ES256", "PS256"]


@pytest.mark.parametrize(("body", "words"), [
    ({"changes": {"no_such_control": True}}, ["no_such_control"]),
    ({"changes": {"pkce_required": False, "nope": True}}, ["nope"]),
    ({"changes": {"pkce_required": "maybe"}}, ["maybe"]),
    ({"params": {"code_short_lifetime": {"colour": 1}}}, ["colour", "lifetime"]),
    ({"params": {"code_short_lifetime": {"lifetime": "soon"}}}, ["lifetime"]),
    ({"params": {"code_short_lifetime": {"lifetime": -5}}}, ["lifetime"]),
    ({"params": {"code_short_lifetime": 30}}, ["code_short_lifetime"]),
    ({"changes": []}, ["changes"]),
    ({"switch": {"pkce_required": True}}, ["switch"]),
    ({}, ["nothing to change"]),
    ([], ["JSON object"]),
])
def test_bad_control_changes_are_a_400_and_change_nothing(
        admin: Admin, lab: RunningLab, body: Any, words: list[str]) -> None:
    before = Registry(lab.store).snapshot()
    assert_error(admin.post("/controls", body), 400, *words)
    assert Registry(lab.store).snapshot() == before


def test_a_body_that_is_not_json_is_a_400(admin: Admin) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_error(admin.call("POST", "/controls", data="changes=x", headers=form), 400, "JSON")
    json_type = {"Content-Type": "application/json"}
    assert_error(admin.call("POST", "/controls", data="{not json", headers=json_type), 400,
                 "JSON")


def test_applying_a_profile_sets_its_controls(admin: Admin, lab: RunningLab) -> None:
    r = admin.post("/profile", {"name": "legacy"})
    assert r.json() == {"profile": "legacy", "enabled": []}
    assert Registry(lab.store).enabled() == set()
    listing = admin.get("/profiles").json()
    assert listing["current"] == "legacy"
    assert [p["name"] for p in listing["profiles"] if p["current"]] == ["legacy"]
    assert all(p["description"] for p in listing["profiles"])


def test_the_adaptive_overlay_is_listed_and_applies(admin: Admin) -> None:
    from lab.controls import profiles
    name = "fapi2-security+adaptive"
    listing = admin.get("/profiles").json()
    assert name in [p["name"] for p in listing["profiles"]]
    r = admin.post("/profile", {"name": name})
    assert r.status_code == 200, r.text
    assert set(profiles.overlay_controls("+adaptive")) <= set(r.json()["enabled"])
    listing = admin.get("/profiles").json()
    assert [p["name"] for p in listing["profiles"] if p["current"]] == [name]


@pytest.mark.parametrize("body", [{"name": "fapi9"}, {"name": 3}, {"profile": "legacy"}, "x"])
def test_unknown_profile_is_a_400_naming_the_known_ones(admin: Admin, body: Any) -> None:
    r = admin.post("/profile", body)
    assert r.status_code == 400
    if isinstance(body, dict) and "name" in body:
        assert "fapi2-security" in r.json()["error_description"]


def test_events_filter_by_request_id_control_and_since(admin: Admin, lab: RunningLab) -> None:
    tag = f"adm-{time.time_ns()}"
    first = lab_events.record(lab.store, lab_events.ControlFired(
        "pkce_required", tag + "-a", "as", "GET /authorize", "invalid_request", "no challenge"))
    lab_events.record(lab.store, lab_events.ControlFired(
        "aud_check", tag + "-b", "bank", "GET /accounts", "invalid_token", "wrong aud"))
    by_request = admin.get("/events", request_id=tag + "-a").json()["events"]
    assert [(e["control"], e["reason"]) for e in by_request] == [("pkce_required", "no challenge")]
    since = admin.get("/events", since=first.id, control="aud_check").json()
    assert [e["request_id"] for e in since["events"]] == [tag + "-b"]
    assert since["last_id"] == since["events"][-1]["id"]
    assert len(admin.get("/events", limit=1).json()["events"]) == 1


@pytest.mark.parametrize(("params", "word"), [
    ({"limit": "many"}, "limit"), ({"limit": 0}, "limit"), ({"since": "-1"}, "since"),
    ({"control": "no_such_control"}, "no_such_control"),
])
def test_bad_event_queries_are_a_400(admin: Admin, params: dict[str, Any], word: str) -> None:
    assert_error(admin.get("/events", **params), 400, word)


def test_clock_advances_by_seconds_or_duration_and_resets(admin: Admin, lab: RunningLab) -> None:
    assert admin.get("/clock").json()["offset"] == 0.0
    r = admin.post("/clock/advance", {"duration": "20m"})
    assert r.status_code == 200, r.text
    assert r.json()["offset"] == 1200.0
    admin.post("/clock/advance", {"seconds": 30})
    assert clock.offset(lab.store) == 1230.0
    assert admin.get("/status").json()["clock_offset"] == 1230.0
    assert abs(admin.get("/clock").json()["now"] - (time.time() + 1230)) < 5
    assert admin.post("/clock/reset", {}).json()["offset"] == 0.0


@pytest.mark.parametrize("body", [
    {"seconds": -1}, {"seconds": "20"}, {"seconds": True}, {"duration": "soon"},
    {"duration": 20}, {"seconds": 1, "duration": "1m"}, {}, [], {"duration": "9" * 400},
])
def test_bad_clock_advances_are_a_400_and_leave_the_clock(admin: Admin, lab: RunningLab,
                                                          body: Any) -> None:
    r = admin.post("/clock/advance", body)
    assert r.status_code == 400, r.text
    assert clock.offset(lab.store) == 0.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from([c.id for c in catalog.CONTROLS] + ["learned", "rules"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["changes", "params", "name", "seconds", "duration", "lifetime", "pkce_required",
         "risk_based_auth", "scorer"]),
        inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/controls", "/profile", "/clock/advance"]), body=json_values)
def test_fuzzed_admin_bodies_never_cause_a_500(lab: RunningLab, controls: Any, path: str,
                                               body: Any) -> None:
    client = lab.apps["as"].test_client()
    token = lab.config.admin_token_path.read_text().strip()
    try:
        r = client.post("/admin" + path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code < 500, r.get_data(as_text=True)
    finally:
        controls.restore()


def test_workshop_progress_is_kept_in_order_and_setting_up_starts_over(admin: Admin) -> None:
    assert admin.post("/workshop/7", {"step": "ran", "result": {}}).status_code == 409
    assert admin.post("/workshop/7", {"step": "setup", "result": {"note": "n"}}).ok
    ran = {"status": "succeeded", "summary": "s", "fired": []}
    assert admin.post("/workshop/7", {"step": "ran", "result": ran}).ok
    kept = admin.get("/workshop").json()
    assert kept["order"][0] == 7 and kept["exercises"]["7"]["ran"] == ran
    assert admin.post("/workshop/7", {"step": "setup", "result": {"note": "again"}}).ok
    assert "ran" not in admin.get("/workshop").json()["exercises"]["7"]


@pytest.mark.parametrize("path, body", [
    ("/workshop/0", {"step": "setup"}), ("/workshop/1", {"step": "jump"}),
    ("/workshop/1", ["setup"]), ("/workshop/1", {"step": "setup", "result": "x"}),
    ("/workshop/1", {"step": "setup", "result": {"note": "x" * 20_000}}),
])
def test_bad_workshop_records_are_refused_readably(admin: Admin, path: str, body: Any) -> None:
    response = admin.post(path, body)
    assert response.status_code in (400, 413) and response.json()["error_description"]


@pytest.mark.parametrize("content", [None, "", "   \n", "short"])
def test_a_missing_empty_or_short_token_file_refuses_everything_and_says_why(tmp_path, content):
    from flask import Flask

    from lab.admin import api
    from lab.config import LabConfig
    from lab.store import SQLiteStore

    config = LabConfig(data_dir=tmp_path)
    # An empty file found at start (the original bug: "" then compared equal to "") and a
    # file deleted while the lab runs.
    config.admin_token_path.write_text("x" * 43 if content is None else content)
    app = Flask("admin-test")
    app.register_blueprint(api.create_blueprint(config, SQLiteStore(tmp_path / "s.db")),
                           url_prefix="/admin")
    if content is None:
        config.admin_token_path.unlink()
    client = app.test_client()
    for presented in ("", " ", (content or "").strip(), "x" * 43):
        r = client.get("/admin/status", headers={"Authorization": f"Bearer {presented}"})
        assert r.status_code == 503, (presented, r.get_data())
        assert "admin-token" in r.json["error_description"]
    r = client.get("/admin/status", headers={"Authorization": "Bearer "})
    why = {None: "is missing", "": "is empty", "   \n": "is empty", "short": "is too short"}
    assert why[content] in r.json["error_description"]


def test_the_admin_token_is_written_atomically_and_private(tmp_path):
    from lab.bootstrap import ensure_admin_token
    from lab.config import LabConfig

    config = LabConfig(data_dir=tmp_path)
    token = ensure_admin_token(config)
    assert len(token) >= 32 and config.admin_token_path.read_text().strip() == token
    assert config.admin_token_path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["admin-token"]  # no temp file left
    assert ensure_admin_token(config) == token  # never replaced once written


@pytest.mark.parametrize("name", ["fapi1-advanced", "fapi2-message-signing"])
def test_the_signed_message_profiles_are_listed_and_apply_with_their_parameters(
        admin: Admin, lab: RunningLab, name: str) -> None:
    from lab.controls import profiles
    listing = admin.get("/profiles").json()
    assert name in [p["name"] for p in listing["profiles"]]
    r = admin.post("/profile", {"name": name})
    assert r.status_code == 200, r.text
    assert set(r.json()["enabled"]) == profiles.enabled(name)
    assert {"jar_required", "jarm"} <= set(r.json()["enabled"])
    registry = Registry(lab.store)
    expected = profiles.params(name)["alg_allow_list"]["algorithms"]
    assert registry.params("alg_allow_list")["algorithms"] == expected
    consume_at = "authorization" if name == "fapi2-message-signing" else "load"
    assert registry.params("request_uri_single_use")["consume_at"] == consume_at
