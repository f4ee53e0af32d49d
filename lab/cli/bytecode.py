"""Byte-compile, once per install, the modules the lab's processes import.

`./fapi-lab` installs with `pip --no-compile` (compiling all of pandas, scipy and streamlit
took a good part of a first install), trusting Python to compile what the lab imports on
first use. Where PYTHONDONTWRITEBYTECODE is set (many container images set it), Python never
writes that bytecode, so every process compiled mitmproxy, Flask and the lab from source
again: about 1.5 s of CPU per matrix job or lab child, and more for the dashboard's pandas.
Run with bytecode writing allowed, this imports each entry point once, so exactly what they
import gets compiled (not whole unused packages), and compiles the lab's own packages whole.
Reading cached bytecode is allowed even where writing is not.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m lab.cli.bytecode [--test]
"""

from __future__ import annotations

import compileall
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN = ("lab", "attacker", "dashboard")
# What the lab's processes import: the apps, their servers, the capture and its addons, the
# attacker and the dashboard's libraries. Missing optional ones are skipped.
ENTRY = (
    "lab.serving.in_process", "lab.serving.gunicorn_app", "lab.capture.proxy",
    "lab.authserver.app", "lab.bank.app", "lab.tpp.app", "lab.admin.api",
    "lab.cli.commands", "lab.cli.matrix", "lab.cli.local", "mitmproxy.tools.dump",
    "mitmproxy.addons", "gunicorn.app.base",
    "gunicorn.workers.gthread", "redis", "requests", "rich.console",
    "attacker.matrix", "attacker.runner", "attacker.lookup",
    "streamlit", "streamlit.web.bootstrap", "pandas", "altair",
)
TEST = ("pytest", "_pytest.python", "playwright.sync_api", "hypothesis")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if sys.flags.dont_write_bytecode:
        print("bytecode writing is off in this process: run it with "
              "`env -u PYTHONDONTWRITEBYTECODE`", file=sys.stderr)
        return 2
    ok = all(compileall.compile_dir(str(ROOT / name), quiet=1, workers=0)
             for name in OWN if (ROOT / name).is_dir())
    for name in ENTRY + (TEST if "--test" in args else ()):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional library not installed: nothing to compile
            continue
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
