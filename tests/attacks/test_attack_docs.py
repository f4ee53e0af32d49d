"""The attack modules are the one home of the attack catalog: docs/attacks.md and every
control's "Attacks it blocks" (its docs page and `fapi-lab controls show`) come from them."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest

from attacker import attacks, control_pages, docs, lookup
from attacker.attacks import ORDER, Attack, Pending
from lab.cli import main
from lab.controls import catalog

IDS = [c.id for c in catalog.CONTROLS]


def test_docs_page_is_current() -> None:
    assert docs.PAGE.exists() and docs.PAGE.read_text() == docs.render(), \
        "docs/attacks.md is stale: run python -m attacker.docs"


def test_control_pages_are_current() -> None:
    stale = control_pages.stale()
    assert not stale, f"stale docs/controls pages for {stale}: run `python -m attacker.docs`"


def test_every_attack_module_is_one_catalog_entry_in_order() -> None:
    modules = [m.name for m in pkgutil.iter_modules(attacks.__path__)]
    found = {}
    for name in modules:
        entry = importlib.import_module(f"attacker.attacks.{name}").ATTACK
        assert isinstance(entry, Attack | Pending), name
        assert entry.id.replace("-", "_") == name, f"{name} defines {entry.id}"
        found[entry.id] = entry
    assert sorted(found) == sorted(ORDER) and len(ORDER) == len(set(ORDER))
    assert list(lookup.entries()) == list(ORDER)


def test_every_blocker_is_a_catalog_control_or_known_as_not_built() -> None:
    for entry in lookup.entries().values():
        assert entry.title and entry.attacker, entry.id
        assert len(set(entry.blocked_by)) == len(entry.blocked_by), entry.id
        for control_id in entry.blocked_by:
            assert re.fullmatch(r"[a-z0-9_]+", control_id), (entry.id, control_id)


def test_listing_says_why_each_pending_attack_waits(stand_in_pending: str) -> None:
    rows = {r["id"]: r for r in lookup.listing()}
    assert stand_in_pending in lookup.pending()
    for attack_id, entry in lookup.pending().items():
        assert rows[attack_id]["state"] == "pending"
        assert rows[attack_id]["reason"] == entry.reason and entry.reason
        with pytest.raises(LookupError, match="pending"):
            lookup.get(attack_id)
    assert not set(lookup.implemented()) & set(lookup.pending())


def _docs_page_attacks(control_id: str) -> list[str]:
    text = (control_pages.DOCS_DIR / f"{control_id}.md").read_text(encoding="utf-8")
    section = text.split("## Attacks it blocks", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([a-z0-9-]+)`", section, flags=re.M)


def _show_attacks(control_id: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["controls", "show", control_id, "--json"]) == 0
    return [a["id"] for a in json.loads(capsys.readouterr().out)["attacks"]]


@pytest.mark.parametrize("control_id", IDS)
def test_controls_show_the_docs_page_and_the_attacks_name_the_same_attacks(
        control_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("FAPI_LAB_HOME", str(tmp_path_factory.mktemp("no-lab")))
    from_metadata = [e.id for e in lookup.entries().values() if control_id in e.blocked_by]
    assert _show_attacks(control_id, capsys) == from_metadata
    assert _docs_page_attacks(control_id) == from_metadata


@pytest.mark.parametrize(("control_id", "attack_id"), [("tpp_checks_iss", "mix-up"),
                                                      ("dpop_bound_tokens", "at-replay-bearer"),
                                                      ("dpop_jti_replay",
                                                       "payment-replay-altered-body")])
def test_controls_show_lists_the_attacks_a_control_blocks(
        control_id: str, attack_id: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("FAPI_LAB_HOME", str(tmp_path_factory.mktemp("no-lab")))
    assert attack_id in _show_attacks(control_id, capsys)
    capsys.readouterr()
    assert main(["controls", "show", control_id]) == 0
    assert attack_id in capsys.readouterr().out


def test_the_docs_page_names_the_module_that_defines_the_control() -> None:
    for control_id, module in (("pkce_required", "lab/controls/catalog.py"),
                               ("dpop_bound_tokens", "lab/controls/catalog_fapi2.py"),
                               ("tpp_checks_iss", "lab/controls/catalog_fapi2.py")):
        page = (control_pages.DOCS_DIR / f"{control_id}.md").read_text(encoding="utf-8")
        assert f"| definition | `{module}` |" in page, control_id
