"""The attacks page: pick an attack, run it, and see its outcome, story, diagram and evidence."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from attacker import lookup
from attacker.runner import SavedState
from lab.controls import catalog as controls_catalog
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab


@pytest.fixture
def legacy(dash_lab: RunningLab) -> Iterator[Registry]:
    saved = SavedState(dash_lab.store)
    registry = Registry(dash_lab.store)
    registry.apply_profile("legacy")
    yield registry
    saved.restore()


def _run(app: AppTest, attack_id: str) -> AppTest:
    app.selectbox(key="attack_pick").set_value(attack_id).run()
    app.button(key="attack_run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _texts(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


def _diagrams(app: AppTest) -> list[str]:
    """The SVGs st.html shows (as <img> data: URIs: st.html's sanitizer drops inline SVG)."""
    prefix = "data:image/svg+xml;base64,"
    return [base64.b64decode(h.value.split(prefix, 1)[1].split('"', 1)[0]).decode()
            for h in app.html if prefix in h.value]


def test_only_built_attacks_can_be_picked(page, legacy: Registry) -> None:  # type: ignore[no-untyped-def]
    app = page("attacks")
    pick = app.selectbox(key="attack_pick")
    assert set(pick.options) == {f"{a.id} — {a.title}" for a in lookup.implemented().values()}
    assert not set(lookup.pending()) & {o.split(" — ")[0] for o in pick.options}
    assert app.radio(key="attack_victim").options == ["HTTP", "real browser"]
    assert _diagrams(app) == []  # nothing run yet


def test_running_an_attack_shows_outcome_story_diagram_and_exchanges(
        page, legacy: Registry) -> None:  # type: ignore[no-untyped-def]
    app = page("attacks")
    attack = lookup.get("at-replay-bearer")
    app.selectbox(key="attack_pick").set_value("at-replay-bearer").run()
    assert attack.premise in _texts(app)
    _run(app, "at-replay-bearer")
    assert [e.value for e in app.error] and "SUCCEEDED" in app.error[0].value
    assert not app.success
    diagrams = _diagrams(app)
    assert len(diagrams) == 1 and diagrams[0].startswith("<svg") and ">Attacker<" in diagrams[0]
    assert "story" in [s.value.lower().replace("the ", "") for s in app.subheader]
    steps = _texts(app)
    assert "[**attacker**]" in steps and "[**victim**]" in steps
    titles = [e.label for e in app.expander if e.label.startswith("[")]
    assert titles and titles[0].startswith("[1] #") and any("Attacker → Bank" in t
                                                             for t in titles)
    assert any("FinLens (TPP) → AS" in t and "token" in t for t in titles)
    assert app.json, "the stolen artefacts are missing"
    # the run survives a rerun (another widget touched)
    app.radio(key="attack_victim").set_value("HTTP").run()
    assert "SUCCEEDED" in app.error[0].value
    assert len(_diagrams(app)) == 1


def test_a_control_switched_on_for_the_run_blocks_it_and_is_explained(
        page, legacy: Registry) -> None:  # type: ignore[no-untyped-def]
    app = page("attacks")
    app.selectbox(key="attack_pick").set_value("at-replay-bearer").run()
    app.multiselect(key="attack_switch_on").set_value(["dpop_bound_tokens"]).run()
    _run(app, "at-replay-bearer")
    assert app.success and "BLOCKED" in app.success[0].value
    control = controls_catalog.get("dpop_bound_tokens")
    text = _texts(app)
    assert f"Fired: {control.title}" in text and control.teaching in text
    # the bank refused the attacker's bearer replay (FinLens itself used DPoP: the AS said it
    # requires it), not the AS refusing FinLens's own token request
    assert any("401" in e.label and "invalid_token" in e.label for e in app.expander)
    assert not any("invalid_dpop_proof" in e.label for e in app.expander)
    assert legacy.is_on("dpop_bound_tokens") is False   # for this run only


def test_an_attack_that_cannot_run_shows_a_warning(
        page, legacy: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dashboard import attack_run

    monkeypatch.setattr(attack_run, "CHROMIUM", str(tmp_path / "no-chromium"))
    app = page("attacks")
    app.selectbox(key="attack_pick").set_value("at-replay-bearer").run()
    app.radio(key="attack_victim").set_value("real browser").run()
    assert any("cannot run here" in w.value for w in app.warning)
    app.button(key="attack_run").click().run()
    assert not app.exception
    assert any("ERROR" in w.value and "no-chromium" in w.value for w in app.warning)


# --- the page's wording, without Streamlit ---------------------------------------------------

def test_attacker_types_are_explained_one_by_one() -> None:
    from dashboard.attacks_view import attacker_types

    lines = attacker_types("A1 + A3b")
    assert len(lines) == 2 and lines[0].startswith("**A1**") and "authorization responses" \
        in lines[1]
    assert attacker_types("ZZ") == ["**ZZ** — see attacks.md §1"]


def test_an_exchange_is_titled_by_arrow_sender_origin_and_answer() -> None:
    from dashboard.attacks_view import exchange_title

    title = exchange_title({"id": 12, "label": "bank", "leg": "resource", "method": "GET",
                            "url": "https://127.0.0.1:9444/accounts?x=1", "status": 401,
                            "error": "invalid_token", "client_addr": "127.0.0.2"}, 7)
    assert title == "[7] #12 · Attacker → Bank · GET /accounts · 401 invalid_token · resource"
    assert "no response" in exchange_title({"id": 1, "label": "as", "leg": "token"})


@pytest.mark.parametrize(("body", "shown", "language"), [
    ('{"error":"invalid_grant"}', '{\n  "error": "invalid_grant"\n}', "json"),
    ("grant_type=x&code=y", "grant_type=x&code=y", None),
    (None, "(empty)", None),
    ("{not json", "{not json", None),
])
def test_bodies_are_shown_as_kept_and_json_pretty(body: str | None, shown: str,
                                                   language: str | None) -> None:
    from dashboard.attacks_view import body_view

    assert body_view(body) == (shown, language)


def test_headers_are_one_per_line_and_bad_ones_are_skipped() -> None:
    from dashboard.attacks_view import headers_text

    assert headers_text([["Host", "a"], ["DPoP", "x.y.z"], ["broken"]]) == "Host: a\nDPoP: x.y.z"
    assert headers_text(None) == "(none)"


FINLENS_ERROR_PAGE = """<!doctype html><html><head><title>Link failed · FinLens</title></head>
<body><header><div class="bar"><a class="brand" href="/">FinLens</a><nav><a href="/">Overview</a>
<a href="/institutions">Connect a bank</a><a href="/settings">Settings</a></nav></div></header>
<main><h1>Link failed</h1><div class="card" data-testid="error">
<p><code id="error-code" data-testid="error-code">invalid_state</code></p>
<p id="error-description">The state in the callback is not the one FinLens sent.</p>
</div></main></body></html>"""


@pytest.mark.parametrize("refusal, error, description", [
    ({"status": 400, "url": "https://127.0.0.1:9445/callback?code=x", "body": FINLENS_ERROR_PAGE},
     "invalid_state", "The state in the callback is not the one FinLens sent."),
    ({"status": 400, "url": "https://127.0.0.1:9443/token",
      "body": '{"error": "invalid_grant", "error_description": "code already used"}'},
     "invalid_grant", "code already used"),
    ({"status": 401, "url": "https://127.0.0.1:9444/accounts", "body": "",
      "www_authenticate": 'DPoP error="invalid_token", error_description="token revoked"'},
     "invalid_token", "token revoked"),
    ({"status": 200, "url": "https://127.0.0.1:9445/callback?error=access_denied"
                            "&error_description=the+user+said+no", "body": "Overview Settings"},
     "access_denied", "the user said no"),
])
def test_the_refusal_box_shows_the_oauth_error_not_the_page(refusal: dict[str, object],
                                                            error: str, description: str) -> None:
    from dashboard import attacks_view

    shown = attacks_view.refusal_view(refusal)
    assert shown["error"] == error and shown["error_description"] == description
    assert "Settings" not in str(shown) and "Connect a bank" not in str(shown)
    assert shown["status"] == refusal["status"]
