"""The sequence diagram: who sent each exchange, where mitmproxy saw it, and what came back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attacker.runner import SavedState
from dashboard import attack_run, attacks_view, data, sequence
from dashboard.sequence import COLOURS, LIFELINES, Arrow, build, sender_of
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab


@pytest.fixture(scope="module")
def runs(dash_lab: RunningLab) -> Iterator[dict[str, Any]]:
    """Real runs on the dashboard's lab (under `legacy`), shared by this module's tests."""
    saved = SavedState(dash_lab.store)
    Registry(dash_lab.store).apply_profile("legacy")
    lab = data.connect()
    yield {
        "config": lab.config,
        "replay": attack_run.run_attack(lab, "at-replay-bearer"),
        "replay_dpop": attack_run.run_attack(lab, "at-replay-bearer",
                                             changes={"dpop_bound_tokens": True}),
        "mix_up": attack_run.run_attack(lab, "mix-up"),
    }
    saved.restore()


def _diagram(runs: dict[str, Any], name: str) -> tuple[attack_run.AttackRun, sequence.Diagram]:
    run = runs[name]
    assert run.status != "error", run.reason
    return run, build(run.exchanges, run.story, attacks_view.lab_origins(runs["config"]))


@pytest.mark.parametrize(("exchange", "sender"), [
    ({"client_addr": "127.0.0.2", "leg": "resource", "label": "bank"}, "attacker"),
    ({"client_addr": "127.0.0.2", "leg": "authz_request", "label": "as"}, "attacker"),
    ({"client_addr": "127.0.0.1", "leg": "authz_request", "label": "as"}, "browser"),
    ({"client_addr": "127.0.0.1", "leg": "authz_response", "label": "tpp"}, "browser"),
    ({"client_addr": "127.0.0.1", "leg": "tpp_ui", "label": "tpp"}, "browser"),
    ({"client_addr": "127.0.0.1", "leg": "token", "label": "as"}, "tpp"),
    ({"client_addr": "127.0.0.1", "leg": "par", "label": "as"}, "tpp"),
    ({"client_addr": "127.0.0.1", "leg": "resource", "label": "bank"}, "tpp"),
    ({"client_addr": "127.0.0.1", "leg": "other", "label": "as",
      "url": "https://127.0.0.1:9443/.well-known/openid-configuration"}, "tpp"),
    ({"client_addr": "127.0.0.1", "leg": "other", "label": "as",
      "url": "https://127.0.0.1:9443/login"}, "browser"),
    ({"client_addr": None, "leg": "other", "label": "bank",
      "url": "https://127.0.0.1:9444/connected-apps"}, "browser"),
])
def test_the_sender_comes_from_the_peer_address_then_the_leg(
        exchange: dict[str, Any], sender: str) -> None:
    assert sender_of(exchange) == sender


def test_every_exchange_of_a_real_run_is_an_arrow_through_the_capture(runs) -> None:  # type: ignore[no-untyped-def]
    run, diagram = _diagram(runs, "replay")
    captured = [a for a in diagram.arrows if a.captured]
    assert [a.capture_id for a in captured] == [e["id"] for e in run.exchanges]
    assert [a.number for a in diagram.arrows] == list(range(1, len(diagram.arrows) + 1))
    by_id = {a.capture_id: a for a in captured}
    for exchange in run.exchanges:
        arrow = by_id[exchange["id"]]
        assert arrow.receiver == exchange["label"] and arrow.status == exchange["status"]
    kinds = {(a.sender, a.receiver, a.leg) for a in captured}
    assert {("browser", "as", "authz_request"), ("tpp", "as", "token"),
            ("tpp", "bank", "resource"), ("attacker", "bank", "resource")} <= kinds
    svg = diagram.svg()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for _, title in LIFELINES:
        assert f">{title}<" in svg
    # one capture dot per recorded exchange, on the Capture lifeline
    dots = re.findall(r'<circle cx="(\d+)"', svg)
    assert len(dots) == len(run.exchanges) and len(set(dots)) == 1


def test_the_attackers_requests_are_drawn_in_its_own_colour(runs) -> None:  # type: ignore[no-untyped-def]
    run, diagram = _diagram(runs, "replay")
    sent = {s["request_id"] for s in run.story["steps"]
            if s["actor"] == "attacker" and s["request_id"]}
    attacker = [a for a in diagram.arrows if a.attacker]
    assert sent and len(attacker) == len(sent)
    assert all(a.receiver == "bank" and a.note for a in attacker)   # hover: its story step
    assert diagram.svg().count(f'stroke="{COLOURS["attacker"]}" stroke-width') >= len(attacker)
    others = [a for a in diagram.arrows if not a.attacker]
    assert others and not any(a.sender == "attacker" for a in others)


def test_a_refusal_is_red_with_its_oauth_error(runs) -> None:  # type: ignore[no-untyped-def]
    """dpop_bound_tokens over legacy: FinLens reads dpop_bound_access_tokens_required and binds
    its token, so the refusal drawn red is the bank's answer to the attacker's bearer replay."""
    run, diagram = _diagram(runs, "replay_dpop")
    assert run.status == "blocked", run.reason
    refused = [a for a in diagram.arrows if a.refused]
    assert refused, [(a.label, a.status, a.error) for a in diagram.arrows]
    assert not any(a.leg == "token" for a in refused)      # FinLens's own flow went through
    replay = next(a for a in refused if a.leg == "resource" and a.attacker)
    assert replay.status == 401 and replay.error == "invalid_token"
    svg = diagram.svg()
    assert f'fill="{COLOURS["refused"]}" font-weight="bold">401 invalid_token<' in svg
    _, fine = _diagram(runs, "replay")
    assert not any(a.refused for a in fine.arrows)
    assert f'stroke="{COLOURS["refused"]}"' not in fine.svg()


def test_requests_to_uncaptured_origins_come_from_the_story(runs) -> None:  # type: ignore[no-untyped-def]
    run, diagram = _diagram(runs, "mix_up")
    uncaptured = [a for a in diagram.arrows if not a.captured]
    assert uncaptured, "the victim's visit to EvilBank is missing"
    to_evilbank = uncaptured[0]
    assert (to_evilbank.sender, to_evilbank.receiver) == ("browser", "attacker")
    assert to_evilbank.capture_id is None and "/authorize" in to_evilbank.label
    # drawn right after the redirect that sent the browser there (FinLens's "Link EvilBank")
    before = diagram.arrows[to_evilbank.number - 2]
    assert before.captured and before.label.startswith("POST /link/evilbank")
    assert len(diagram.arrows) == len(run.exchanges) + len(uncaptured)
    assert 'stroke-dasharray="2 3"' in diagram.svg()


def test_no_exchanges_give_a_readable_empty_diagram() -> None:
    diagram = build([])
    svg = diagram.svg()
    assert diagram.arrows == [] and "No exchanges were recorded" in svg
    assert all(f">{title}<" in svg for _, title in LIFELINES)
    assert "<script" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_many_exchanges_are_bounded_and_numbered() -> None:
    many = [{"id": i, "label": "bank", "leg": "resource", "method": "GET", "status": 200,
             "url": f"https://127.0.0.1:9444/accounts/{i}", "client_addr": "127.0.0.1"}
            for i in range(1, sequence.MAX_ARROWS + 51)]
    diagram = build(many)
    assert len(diagram.arrows) == sequence.MAX_ARROWS and diagram.left_out == 50
    assert diagram.arrows[-1].number == sequence.MAX_ARROWS
    assert "50 more exchanges" in diagram.svg()


def test_the_diagram_is_legible_on_a_projector() -> None:
    """The whole diagram on the page, as wide as the page, no label under 14 px: in a 640 px
    scroll box with 10 px labels the attacker's arrows were below the fold and unreadable."""
    exchanges = [{"id": i, "label": "as", "leg": "front", "method": "GET", "status": 200,
                  "url": f"https://127.0.0.1:9443/authorize?n={i}", "client_addr": "127.0.0.1"}
                 for i in range(1, 40)]
    diagram = build(exchanges)
    page = diagram.html()
    assert "overflow" not in page and "max-height" not in page and "max-width" not in page
    assert "width:100%" in page
    sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', diagram.svg())]
    assert sizes and min(sizes) >= 14, sorted(set(sizes))


def test_labels_are_short_and_escaped() -> None:
    long_path = "https://127.0.0.1:9444/accounts/" + "x" * 200 + "?token=secret"
    arrow = build([{"id": 1, "label": "bank", "leg": "resource", "method": "GET",
                    "url": long_path, "status": 200}]).arrows[0]
    assert len(arrow.label) < 60 and "secret" not in arrow.label
    svg = build([{"id": 1, "label": "as", "leg": "other", "method": "<b>",
                  "url": "https://a/<script>", "status": 200}]).svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert Arrow(1, "browser", "as", "x", "token", status=400, error="invalid_grant").refused
    assert not Arrow(1, "browser", "as", "x", "token", status=400).refused
    assert not Arrow(1, "browser", "tpp", "x", "tpp_ui", status=404, error="not_found").refused
    assert Arrow(1, "browser", "as", "x", "authz_response", status=302,
                 error="access_denied").refused


values = st.one_of(st.none(), st.integers(), st.text(max_size=30), st.booleans(),
                   st.lists(st.text(max_size=5), max_size=2))
exchange_like = st.dictionaries(
    st.sampled_from(["id", "label", "leg", "method", "url", "status", "client_addr",
                     "request_id", "error", "location", "actor", "text"]),
    st.one_of(values, st.sampled_from(["attacker", "victim", "https://[x/", "https://e:1/a"])))


@settings(max_examples=150, deadline=None)
@given(st.lists(exchange_like, max_size=8),
       st.dictionaries(st.sampled_from(["steps", "events"]),
                       st.one_of(values, st.lists(exchange_like, max_size=4))))
def test_malformed_input_still_draws(exchanges: list[dict[str, Any]],
                                     story: dict[str, Any]) -> None:
    svg = build(exchanges, story).svg()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
