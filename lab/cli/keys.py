"""`fapi-lab keys list|rotate [--json]`: AS signing keys; `keys rotate-secret`: FinLens's secret.

Both go through the running lab's admin API: the rotation happens in the lab, under the
key file's lock, on the lab clock. A rotation while an older key is still retiring is
refused (exit 1) with the time it retires; there is no --force (see docs/keys.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from lab.cli.client import AdminClient
from lab.config import LabConfig


def register(add: Any) -> None:
    keys = add("keys", "the AS signing keys: `list`, or `rotate` (new key signs, old retires)")
    ksub = keys.add_subparsers(dest="action", metavar="ACTION")
    for name, text in (("list", "every AS key with its status (current, retiring, retired)"),
                       ("rotate", "make a new AS signing key (published now, signs 12 s "
                                  "later); the old one retires after the longest token "
                                  "lifetime"),
                       ("rotate-secret", "FinLens rotates its client secret at HonestBank now "
                                         "(RFC 7592 PUT; it also does so before expiry)")):
        action = ksub.add_parser(name, parents=[add.common], help=text)
        action.add_argument("--json", action="store_true")
    keys.add_argument("--json", action="store_true")


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def table(rows: list[dict[str, Any]], console: Console) -> None:
    out = Table("kid", "alg", "status", "in JWKS", "created", "signs from", "retires")
    for row in rows:
        out.add_row(str(row["kid"]), str(row["alg"]), str(row["status"]),
                    "yes" if row["in_jwks"] else "no", _when(row.get("created_at")),
                    _when(row.get("active_at")), _when(row.get("retire_at")))
    console.print(out)


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    client = AdminClient.connect(config)
    if args.action == "rotate-secret":
        data = client.post("/tpp/rotate-secret", {})
        if args.json:
            print(json.dumps(data, indent=2))
        else:
            console.print(f"FinLens has a new client secret; it expires at "
                          f"{_when(data.get('client_secret_expires_at'))} (lab clock)",
                          highlight=False)
        return 0
    if args.action == "rotate":
        data = client.post("/keys/rotate", {})
        if args.json:
            print(json.dumps(data, indent=2))
            return 0
        console.print(f"new signing key {data['new_kid']} ({data['alg']}) is published now and "
                      f"signs from {_when(data['active_at'])} ({data['publish_ahead_seconds']} s "
                      f"on: verifiers fetch it before any token carries it); {data['old_kid']} "
                      f"signs until then and stays in the JWKS until "
                      f"{_when(data['retire_at'])} (lab clock, {data['overlap_seconds']} s: the "
                      f"longest token lifetime), then retires", highlight=False)
        table(data["keys"], console)
        return 0
    data = client.get("/keys")
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        table(data["keys"], console)
    return 0
