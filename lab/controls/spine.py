"""The spine (style.md §1): where each of a control's five places lives in the source tree.

One definition, used by `fapi-lab controls show`, `GET /admin/controls/<id>`,
the docs generator and tests/test_spine.py, so they never disagree on where
to look. The attacks a control blocks live in attacker/attacks/, which the lab never
imports or reads: the attacker side (attacker.lookup.blocked_by) adds them. Paths are
relative to the source checkout; an installed lab without a checkout reports them as missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import lab

ROOT = Path(lab.__file__).resolve().parent.parent
# Enforcement points live in the apps and protocol code. lab/controls and lab/admin only
# talk *about* guards (docstrings, this module), so they never count as enforcing one.
_NOT_ENFORCEMENT = ("lab/controls/", "lab/admin/")


def control_docs_path(control_id: str) -> Path:
    return ROOT / "docs" / "controls" / f"{control_id}.md"


def control_test_path(control_id: str) -> Path:
    return ROOT / "tests" / "controls" / f"test_{control_id}.py"


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _python_files(top: str) -> list[tuple[str, str]]:
    base = ROOT / top
    if not base.is_dir():
        return []
    files = []
    for path in sorted(base.rglob("*.py")):
        try:
            files.append((relative(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return files


def _sources() -> list[tuple[str, str]]:
    """Read on every call (a few ms): the source tree changes while people work on it."""
    return [(p, text) for p, text in _python_files("lab") if not p.startswith(_NOT_ENFORCEMENT)]


def enforcement_points(control_id: str) -> list[str]:
    """Files under lab/ holding `guard("<id>")`: where the control is asked and refuses."""
    pattern = re.compile(r"""\bguard\(\s*["']""" + re.escape(control_id) + r"""["']\s*\)""")
    return [path for path, text in _sources() if pattern.search(text)]


def definition(control_id: str) -> str | None:
    """The lab/controls module whose table holds `Control("<id>", ...)` (catalog.py or a part)."""
    pattern = re.compile(r"""\bControl\(\s*(?:id=)?["']""" + re.escape(control_id) + r"""["']""")
    found = [path for path, text in _python_files("lab/controls") if pattern.search(text)]
    return found[0] if len(found) == 1 else None


def places(control_id: str) -> dict[str, object]:
    """The lab's places as JSON-ready values; a missing file is reported as None.

    The attacks a control blocks are the fifth place; they live in attacker/attacks/, which
    the lab never reads: `fapi-lab controls show` and the docs generator add them.
    """
    docs, test = control_docs_path(control_id), control_test_path(control_id)
    return {
        "definition": definition(control_id),
        "docs": relative(docs) if docs.exists() else None,
        "docs_expected": relative(docs),
        "test": relative(test) if test.exists() else None,
        "test_expected": relative(test),
        "enforcement_points": enforcement_points(control_id),
    }
