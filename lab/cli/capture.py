"""`fapi-lab capture list [--leg L] [--json]` and `fapi-lab capture show ID [--json]`.

Both read what the capture proxy recorded, through the running lab's admin API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from lab.capture.legs import LEGS
from lab.cli.client import AdminClient
from lab.cli.show import safe
from lab.config import LabConfig


def register(add: Any) -> None:
    capture = add("capture", "what the capture proxy recorded: `list [--leg L]`, `show ID`")
    csub = capture.add_subparsers(dest="action", metavar="ACTION")
    listing = csub.add_parser("list", parents=[add.common], help="recorded exchanges, oldest first")
    listing.add_argument("--leg", choices=LEGS)
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true")
    show = csub.add_parser("show", parents=[add.common],
                           help="one exchange with headers and bodies")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")


def _time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    client = AdminClient.connect(config)
    if args.action == "show":
        row = client.get(f"/captures/{args.id}")
        if args.json:
            print(json.dumps(row, indent=2, ensure_ascii=False))
        else:
            show(row, console)
        return 0
    data = client.get("/captures", leg=getattr(args, "leg", None),
                      limit=getattr(args, "limit", 200))
    if getattr(args, "json", False):
        print(json.dumps(data["captures"], indent=2, ensure_ascii=False))
    else:
        listing(data["captures"], console)
    return 0


def listing(rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        console.print("nothing captured yet (is the lab running with capture on?)",
                      highlight=False)
        return
    # Everything but the ids and times came over the wire: shown with controls escaped.
    table = Table()
    for column in ("id", "time", "origin", "leg", "method", "status", "request id"):
        table.add_column(column, no_wrap=True)
    table.add_column("url")
    for r in rows:
        table.add_row(str(r["id"]), _time(r["ts"]), safe(r["label"]), safe(r["leg"]),
                      safe(r["method"]), str(r["status"] if r["status"] is not None else "—"),
                      safe(r["request_id"] or "—"), safe(r["url"]))
    console.print(table)


def show(row: dict[str, Any], console: Console) -> None:
    """One exchange; headers and bodies are the client's and the server's own bytes, so every
    control character in them is printed as a visible escape, never sent to the terminal."""
    def line(text: str) -> None:
        console.print(safe(text), highlight=False)

    line(f"#{row['id']} {_time(row['ts'])} {row['label']} leg={row['leg']} "
         f"request id {row['request_id'] or '—'}")
    def message(headers: list[tuple[str, str]], body: str | None) -> None:
        for name, value in headers:
            line(f"{name}: {value}")
        if body:
            line("")
            line(body)

    line(f"{row['method']} {row['url']}")
    message(row["request_headers"], row["request_body"])
    line("")
    line(f"→ {row['status'] if row['status'] is not None else 'no response'}")
    message(row["response_headers"], row["response_body"])
