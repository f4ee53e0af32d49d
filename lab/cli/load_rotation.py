"""`fapi-lab load --rotate-keys-after N`: rotate the AS signing key in the middle of each workload.

The rotation itself is loadtests/rotation.py's, inside the Locust process that counts the
requests, through the lab's admin API. Here: the option, what the Locust side needs (the
admin API, the kid signing when the workload starts), and one rotation per workload. A
rotation is refused while an earlier key still retires (lab.keys.RotationInProgress); on
the private lab, which is the run's own, the lab clock is moved past that retirement
before the next workload; a running lab's clock is never moved, so it rotates at most once.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lab.cli.client import EXIT_USAGE, AdminClient, CliError

MAX_AFTER = 1_000_000


def add_argument(load: argparse.ArgumentParser) -> None:
    load.add_argument("--rotate-keys-after", type=int, default=None, metavar="N",
                      help="rotate the AS signing key (`fapi-lab keys rotate`) once in each "
                           "workload, after its first N requests; the results show requests, "
                           "failures and req/s before and after")


def check(args: argparse.Namespace, names: list[str]) -> None:
    after = getattr(args, "rotate_keys_after", None)
    if after is None:
        return
    if not 1 <= after <= MAX_AFTER:
        raise CliError(f"--rotate-keys-after must be 1-{MAX_AFTER} requests", EXIT_USAGE)
    if args.running and len(names) > 1:
        raise CliError("--running with --rotate-keys-after rotates the running lab's key once: "
                       "name one workload (a second rotation would wait for the first key to "
                       "retire, and fapi-lab load never moves a running lab's clock)", EXIT_USAGE)


def _busy_until(admin: AdminClient) -> tuple[float, str | None]:
    """The latest retirement of a key still retiring, and its kid (0, None: none)."""
    keys = admin.get("/keys")["keys"]
    now = float(admin.get("/clock")["now"])
    retiring = [(float(k["retire_at"]), str(k["kid"])) for k in keys
                if k.get("retire_at") and float(k["retire_at"]) > now]
    return max(retiring, default=(0.0, None))


def material(admin: AdminClient, args: argparse.Namespace) -> dict[str, Any] | None:
    """What loadtests/rotation.py needs for one workload, with no rotation in progress."""
    if getattr(args, "rotate_keys_after", None) is None:
        return None
    until, kid = _busy_until(admin)
    if kid is not None:
        if args.running:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(until))
            raise CliError(f"a rotation is in progress on the running lab: key {kid} retires at "
                           f"{when} (lab clock); --rotate-keys-after needs none")
        # The private lab is the run's own: its clock moves past the earlier key's retirement.
        now = float(admin.get("/clock")["now"])
        admin.post("/clock/advance", {"seconds": until - now + 1})
    current = next(k["kid"] for k in admin.get("/keys")["keys"] if k["status"] == "current")
    return {"after_requests": args.rotate_keys_after, "admin_url": admin.base,
            "admin_token": admin.token, "initial_kid": current}


def problems(results: dict[str, Any]) -> list[str]:
    """Workloads whose rotation did not happen (the run then fails)."""
    out = []
    for name, result in results.items():
        rotation = result.rotation or {}
        if not rotation.get("rotated"):
            why = rotation.get("error") or "fewer requests than --rotate-keys-after"
            out.append(f"{name}: the AS key was not rotated ({why})")
    return out
