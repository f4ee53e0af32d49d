"""The layers hold: the domain and protocol code import no Flask and no web app.

lab/domain (HonestBank's data) and lab/protocol (OAuth on Authlib) sit under the three
Flask apps (lab/authserver, lab/bank, lab/tpp); each app's Flask factory is its app.py,
so even importing an app package leaves Flask out. Each check runs in a fresh
interpreter, since this test process has long since imported Flask.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lab

LAB = Path(lab.__file__).parent
WEB = ("flask", "werkzeug")
APPS = ("lab.authserver", "lab.bank", "lab.tpp")

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_importing(code: str, *args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, timeout=120, cwd=LAB.parent)
    return set(json.loads(out.stdout))


def _top(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in prefixes or m.startswith(tuple(p + "." for p in
                                                                              prefixes)))


@pytest.mark.parametrize(("package", "witness"), [
    ("lab.domain", "lab.domain.consent"), ("lab.protocol", "lab.protocol.grants"),
    ("lab.controls", "lab.controls.guard"), ("lab.store", "lab.store.base"),
    ("lab.audit", "lab.audit.verify")])
def test_every_module_of_a_lower_layer_imports_without_flask(package, witness):
    loaded = _modules_after_importing(_IMPORT_ALL, package)
    assert witness in loaded             # the walk really imported the package's modules
    assert _top(loaded, WEB) == []
    assert _top(loaded, APPS) == []


def test_the_app_packages_leave_flask_to_their_app_modules():
    code = ("import json, sys, lab.authserver, lab.bank, lab.tpp; "
            "print(json.dumps(sorted(sys.modules)))")
    loaded = _modules_after_importing(code)
    assert _top(loaded, WEB) == []
    flask_app = _modules_after_importing("import json, sys, lab.bank.app; "
                                         "print(json.dumps(sorted(sys.modules)))")
    assert "flask" in flask_app          # the check above can see Flask when it is there


def _imports(path: Path) -> set[str]:
    """Every absolute module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(("layer", "above"), [
    ("domain", APPS + ("lab.protocol",)),
    ("protocol", APPS),
], ids=["domain", "protocol"])
def test_a_layer_never_imports_what_stands_on_it(layer, above):
    files = sorted((LAB / layer).rglob("*.py"))
    assert files
    offending = {str(f.relative_to(LAB.parent)): _top(_imports(f), above) for f in files}
    assert {f: names for f, names in offending.items() if names} == {}
