"""How the CLI prints the admin API's JSON shapes (lab.admin.describe) as tables and text."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lab.serving import serving_text

# C0 controls but newline and tab, DEL, C1 controls, and the bidi overrides that reorder
# what a terminal shows. rich escapes markup, not these: a captured request's ESC sequences
# would retitle, clear or recolour the reader's terminal. (rich.control.escape_control_codes
# covers only BEL, BS, VT, FF and CR.)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Untrusted text for a terminal: every control character as a visible escape (\\x1b)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def safe(text: str) -> str:
    """Untrusted text for console.print: control characters shown, rich markup escaped."""
    return escape(visible(text))


def _state(on: bool | None) -> str:
    return {True: "[green]on[/]", False: "[dim]off[/]", None: "?"}[on]


def status(data: dict[str, Any], console: Console) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    for key in ("as", "bank", "tpp", "gateway", "access_tokens", "dashboard", "issuer",
                "ca_cert", "profile", "data_dir", "admin_token_path", "pid"):
        if data.get(key) is not None:
            table.add_row(f"[bold]{key}[/]", escape(str(data[key])))
    serving = data.get("serving")
    if isinstance(serving, dict) and serving.get("server"):
        table.add_row("[bold]serving[/]", escape(serving_text(serving)))
    offset = float(data.get("clock_offset") or 0)
    table.add_row("[bold]clock_offset[/]", duration(offset) if offset else "0 (wall time)")
    enabled = data.get("enabled_controls") or []
    table.add_row("[bold]enabled_controls[/]",
                  f"{len(enabled)}: " + ", ".join(enabled) if enabled else "none")
    console.print(table)


def controls(data: dict[str, Any], console: Console) -> None:
    profile = data.get("profile")
    title = f"controls (profile {profile})" if profile else "controls (no lab running: state ?)"
    table = Table(title=title, title_justify="left")
    for column in ("id", "state", "enforced at", "title"):
        table.add_column(column)
    for c in data["controls"]:
        table.add_row(c["id"], _state(c["on"]), " + ".join(c["enforced_at"]), escape(c["title"]))
    console.print(table)


def marks(by_profile: dict[str, str | None]) -> str:
    """Profile marks in the catalog's order (JSON sorted them): legacy, oauth2, fapi2-security."""
    from lab.controls import profiles as lab_profiles  # not at the top: `status` needs none

    order = [n for n in lab_profiles.names() if n in by_profile] + \
        sorted(set(by_profile) - set(lab_profiles.names()))
    return "  ".join(f"{name} {by_profile[name] or '–'}" for name in order)


def _place(path: str | None, expected: str) -> str:
    return escape(path) if path else f"[red]missing[/] (expected {escape(expected)})"


def control_detail(c: dict[str, Any], console: Console) -> None:
    """Everything about one control, the five places of style.md §1 included."""
    console.print(f"[bold]{escape(c['id'])}[/] — {escape(c['title'])}  {_state(c['on'])}")
    rows: list[tuple[str, str]] = [
        ("checks", c["checks"]),
        ("kind", c["kind"]),
        ("enforced at", " + ".join(c["enforced_at"])),
        ("refusal", c["refusal"]["text"]),
        ("spec", c["spec"]),
        ("profiles", marks(c["profiles"])),
    ]
    for key, label in (("requires", "requires"), ("required_by", "required by"),
                       ("fires_via", "fires via"), ("metadata", "discovery metadata")):
        if c.get(key):
            rows.append((label, ", ".join(c[key])))
    if c["params"]:
        rows.append(("params", ", ".join(f"{k}={v!r}" for k, v in c["params"].items())))
    rows.append(("when off", c.get("off_behaviour") or "—"))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, escape(str(value)))
    console.print(table)
    console.print(f"\n[bold]Why[/]\n{escape(c['teaching'])}\n")
    points = c.get("enforcement_points") or []
    if points:
        where = escape(", ".join(points))
    elif c["kind"] == "enabler" or c.get("fires_via"):
        where = f"none of its own (fires via {', '.join(c.get('fires_via') or []) or 'others'})"
    else:
        where = "[red]missing[/] (no guard(\"" + c["id"] + "\") under lab/)"
    attacks = ", ".join(a["id"] + (" (pending)" if a["state"] == "pending" else "")
                        for a in c.get("attacks") or []) or "none (attacker/attacks)"
    places = Table(title="where to find it", title_justify="left", show_header=False, box=None,
                   pad_edge=False)
    places.add_column(style="bold", no_wrap=True)
    places.add_column()
    places.add_row("definition", escape(c.get("definition") or "lab/controls/catalog.py"))
    places.add_row("enforcement", where)
    places.add_row("attacks", escape(attacks))
    places.add_row("tests", _place(c.get("test"), c["test_expected"]))
    places.add_row("docs", _place(c.get("docs"), c["docs_expected"]))
    console.print(places)


def profiles(data: dict[str, Any], console: Console) -> None:
    table = Table(title_justify="left")
    for column in ("", "profile", "controls on", "description"):
        table.add_column(column)
    for p in data["profiles"]:
        mark = "*" if p["current"] else ""
        table.add_row(mark, p["name"], str(len(p["controls"])), escape(p["description"]))
    console.print(table)
    if data.get("current"):
        changed = " (changed by single switches since)" if data.get("modified") else ""
        console.print(f"current: {data['current']}{changed}", highlight=False)


def events(rows: list[dict[str, Any]], console: Console, *, header: bool = True) -> None:
    if not rows:
        if header:
            console.print("no control-fired events yet", highlight=False)
        return
    table = Table(show_header=header)
    for column in ("id", "time", "kind", "control", "request id", "where", "error"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for e in rows:
        table.add_row(str(e["id"]), e["time"], e["kind"], e["control"],
                      safe(e["request_id"] or "—"), safe(e["endpoint"] or e["component"] or ""),
                      safe(e["error"] or ""), safe(e["reason"] or ""))
    console.print(table)


def duration(seconds: float) -> str:
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return sign + ("".join(parts) or "0s")


def clock(data: dict[str, Any], console: Console) -> None:
    console.print(f"lab time  {data['now_iso']}", highlight=False)
    console.print(f"wall time {data['wall']}", highlight=False)
    console.print(f"offset    {duration(data['offset'])}", highlight=False)
    if data["offset"]:
        console.print("Authorization codes, tokens and SMS codes now expire by the lab clock. "
                      "TOTP codes stay on real time, so authenticator apps keep working. "
                      "`fapi-lab clock reset` puts the lab back on wall time.", highlight=False)
