"""`fapi-lab detect`: does token_usage_monitoring catch token theft, and what does it cost the
honest customers?

A private lab (capture on, gunicorn) runs fapi2-security with token_usage_monitoring on,
under the control's own parameters (`--param`). Two Locust runs play the honest side: the
`flow` workload (customers linking FinLens over and over, each linking a token family used
twice) and loadtests/finlens.py (FinLens visiting the links it holds at a person's pace and
refreshing their tokens, each link one family for the whole run), all from where the tokens
were issued. While they run, the attacker's runner plays each
catalog attack monitoring is meant to stop alone (`blocked_by` names it, `not_alone` does
not), through the capture. Per attack: detected (monitoring revoked the family the attacker
used, refusing the attacker's own request), the attacker's requests until then (a count) and
the wall seconds between the first and the refused one (from the capture's timestamps); for
the honest traffic: alerts and revocations on families the attacker never touched, per honest
bank request. Traffic only ever goes to 127.0.0.1; users and duration are bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from attacker import lookup, runner
from attacker.attacks import Attack
from attacker.outcome import Outcome
from lab.cli.client import EXIT_USAGE, CliError
from lab.config import LabConfig
from lab.controls import catalog
from lab.controls.registry import Registry
from lab.load import prepare, report
from lab.load.workloads import WORKLOADS, Workload
from lab.store.base import Store

CONTROL = "token_usage_monitoring"
PROFILE = "fapi2-security"
# The honest side: customers linking FinLens over and over (each linking a family used twice),
# and FinLens using links it holds, refreshing now and then (each a family used for the run).
BENIGN = (WORKLOADS["flow"],
          Workload("finlens", "FinLens's dashboard visits on its links, refreshing tokens"))
MATERIAL_OF = {"flow": "flow", "finlens": "refresh"}   # lab/load/prepare.py's kinds
MAX_USERS = 10
MAX_DURATION = 300
WARMUP = 5.0     # s of honest traffic before the first attack, so honest families exist


def register(add: Any) -> None:
    detect = add("detect", "token theft under honest load: detected?, false alarms")
    detect.epilog = ("Benign Locust traffic (honest linkings, FinLens's visits and refreshes) "
                     "on a private lab with "
                     "token_usage_monitoring on, the token-theft attacks run through the "
                     "capture meanwhile; per attack: detected, requests and wall seconds to "
                     "revoke; false alarms on the benign families.")
    detect.add_argument("--users", type=int, default=3,
                        help=f"honest Locust users, each of linking FinLens and of FinLens "
                             f"using a link (1-{MAX_USERS}, default 3)")
    detect.add_argument("--duration", type=int, default=30,
                        help=f"seconds of benign traffic (5-{MAX_DURATION}, default 30); the "
                             "attacks run inside it")
    detect.add_argument("--attack", action="append", metavar="ID",
                        help="repeatable (default: every catalog attack token_usage_monitoring "
                             "is meant to stop alone)")
    detect.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of token_usage_monitoring, VALUE as JSON (threshold=80, "
                             "weights='{\"address\": 20}')")
    detect.add_argument("--workers", type=int, default=2, metavar="N",
                        help="gunicorn workers each for the AS and the bank (1-8, default 2)")
    detect.add_argument("--json", action="store_true", help="the figures as JSON on stdout")


def default_attacks() -> list[Attack]:
    """The implemented attacks monitoring alone is meant to stop."""
    return [e for e in lookup.blocked_by(CONTROL)
            if isinstance(e, Attack) and CONTROL not in e.not_alone]


def parse_params(items: list[str]) -> dict[str, Any]:
    known = catalog.BY_ID[CONTROL].params
    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in known:
            raise CliError(f"expected NAME=VALUE with NAME one of {', '.join(known)}, got "
                           f"{item!r}", EXIT_USAGE)
        try:
            params[name] = json.loads(text)
        except ValueError:
            params[name] = text
    return params


def _attacks(names: list[str] | None) -> list[Attack]:
    if not names:
        return default_attacks()
    try:
        return [lookup.get(n) for n in dict.fromkeys(names)]
    except LookupError as error:
        raise CliError(str(error), EXIT_USAGE) from None


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    if not 1 <= args.users <= MAX_USERS:
        raise CliError(f"--users must be 1-{MAX_USERS}", EXIT_USAGE)
    if not 5 <= args.duration <= MAX_DURATION:
        raise CliError(f"--duration must be 5-{MAX_DURATION} seconds", EXIT_USAGE)
    if not 1 <= args.workers <= 8:
        raise CliError("--workers must be 1-8", EXIT_USAGE)
    attacks, params = _attacks(args.attack), parse_params(args.param)
    progress = Console(stderr=True, highlight=False)   # stdout carries only the result
    from lab.serving.private import private_lab

    progress.print(f"starting a private lab: {PROFILE} + {CONTROL}, capture on, gunicorn "
                   f"{args.workers} workers each for the AS and the bank")
    with private_lab(profile=PROFILE, workers=args.workers, capture=True,
                     prefix="fapi-lab-detect-") as lab:
        result = measure(lab.config, lab.store, attacks, params, args.users, args.duration,
                         progress)
    result["finished"] = round(time.time())
    progress.print(f"saved for the dashboard's Detection page: {save(config.data_dir, result)}")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for line in lines(result):
            console.print(line, highlight=False)
    return 0 if all(a["detected"] for a in result["attacks"]) else 1


def results_path(data_dir: Path) -> Path:
    """Where the last run's figures are kept: the dashboard charts them from here."""
    return data_dir / "detect" / "results.json"


def save(data_dir: Path, result: dict[str, Any]) -> Path:
    """Write the figures beside the lab's other last-run results (a new file renamed over the
    old one: the dashboard never reads half of it)."""
    path = results_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(result, indent=1))
    os.replace(partial, path)
    return path


def _configure(store: Store, params: dict[str, Any]) -> runner.Configuration:
    configuration = runner.Configuration(PROFILE, {CONTROL: True}, {CONTROL: params})
    registry = Registry(store)
    registry.apply_profile(PROFILE)
    registry.set({CONTROL: True})
    for name, value in params.items():
        registry.set_param(CONTROL, name, value)
    return configuration


def measure(lab: LabConfig, store: Store, attacks: list[Attack], params: dict[str, Any],
            users: int, duration: int, progress: Console) -> dict[str, Any]:
    """Benign flow load in a thread, the attacks one after another inside it; the figures."""
    from lab.cli.load import _locust
    from lab.domain import usage_monitor

    usage_monitor.ensure_schema(store)
    configuration = _configure(store, params)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="fapi-lab-detect-") as tmp:
        errors: list[BaseException] = []
        threads = []
        for workload in BENIGN:
            material = Path(tmp) / f"{workload.name}.json"
            material.write_text(json.dumps(prepare.material(lab, store,
                                                            MATERIAL_OF[workload.name], users)))
            material.chmod(0o600)

            def benign(workload: Workload = workload, material: Path = material) -> None:
                try:
                    _locust(workload, material, users, duration, Path(tmp) / workload.name,
                            progress)
                except BaseException as error:  # noqa: BLE001 - reported after the join
                    errors.append(error)

            threads.append(threading.Thread(target=benign, name=f"detect-{workload.name}",
                                            daemon=True))
        for thread in threads:
            thread.start()
        time.sleep(min(WARMUP, duration / 2))
        for attack in attacks:
            progress.print(f"{attack.id}: running through the capture, benign load on")
            outcomes.append(runner.run(attack, lab, store, configuration))
            progress.print(f"{attack.id}: {outcomes[-1].status}")
        for thread in threads:
            thread.join(duration + 120)
        if errors:
            raise CliError(f"the benign load failed: {errors[0]}")
        try:
            stats = [report.read_stats(w.name, Path(tmp) / w.name) for w in BENIGN]
        except (OSError, ValueError):
            raise CliError("locust produced no statistics for the benign load") from None
    per_attack = [attack_figures(store, o) for o in outcomes]
    stolen = {g for a in per_attack for g in a.pop("grants")}
    return {"profile": PROFILE, "control": CONTROL, "params": Registry(store).params(CONTROL),
            "users": users, "duration": duration, "attacks": per_attack,
            "benign": benign_figures(store, stats, stolen)}


def _attacker_ids(outcome: Outcome) -> list[str]:
    return [s.request_id for s in outcome.steps if s.actor == "attacker" and s.request_id]


def attack_figures(store: Store, outcome: Outcome) -> dict[str, Any]:
    """Detected: a monitoring refusal of the attacker's own request (not an alert)."""
    ids = _attacker_ids(outcome)
    revoking = next((e for e in outcome.events if e.control == CONTROL and e.kind == "fired"
                     and e.by == "attacker" and e.counted), None)
    alerts = [e for e in outcome.events if e.control == CONTROL and e.kind == "alert"
              and e.by == "attacker"]
    marks = {i: "?" for i in ids}
    grants: set[str] = set()
    if ids:
        holes = ", ".join("?" * len(ids))
        grants = {r["grant_id"] for r in store.query(
            f"SELECT DISTINCT grant_id FROM usage_alerts WHERE request_id IN ({holes})",
            tuple(ids))}
        times = {r["request_id"]: float(r["ts"]) for r in store.query(
            f"SELECT request_id, MIN(ts) AS ts FROM captures WHERE request_id IN ({holes}) "
            "GROUP BY request_id", tuple(ids))}
        marks = {i: times.get(i) for i in ids}  # type: ignore[misc]
    seconds = None
    requests_to_revoke = None
    if revoking is not None and revoking.request_id in marks:
        requests_to_revoke = ids.index(revoking.request_id) + 1
        sent = [t for t in marks.values() if isinstance(t, float)]
        tipped = marks[revoking.request_id]
        if sent and isinstance(tipped, float):
            seconds = round(tipped - min(sent), 3)
    return {"attack": outcome.attack, "status": outcome.status,
            "detected": revoking is not None and outcome.status == "blocked",
            "alerts": len(alerts), "attacker_requests": len(ids),
            "requests_to_revoke": requests_to_revoke, "wall_seconds_to_revoke": seconds,
            "summary": outcome.summary, "grants": sorted(grants)}


def benign_figures(store: Store, stats: list[report.Result], stolen: set[str]) -> dict[str, Any]:
    """Alerts and revocations on the families no attacker used, per honest bank request."""
    steps = [s for r in stats for s in r.steps]
    bank = [s for s in steps if "/accounts" in s.step and "use_dpop_nonce" not in s.step]
    requests = sum(s.requests for s in bank)
    families = [f for f in store.query("SELECT grant_id, score, revoked_at FROM usage_families")
                if f["grant_id"] not in stolen]
    honest = {f["grant_id"] for f in families}
    alerts = [a for a in store.query("SELECT grant_id FROM usage_alerts") if a["grant_id"]
              in honest]
    revoked = sum(f["revoked_at"] is not None for f in families)
    alerted = len({a["grant_id"] for a in alerts})
    return {"workloads": [r.workload for r in stats],
            "requests": sum(r.requests for r in stats),
            "failures": sum(r.failures for r in stats),
            "bank_requests": requests,
            "refreshes": sum(s.requests for s in steps if "refresh" in s.step),
            "families": len(families),
            "linkings": sum(r.linkings.completed for r in stats if r.linkings),
            "alerts": len(alerts), "alerted_families": alerted, "revoked_families": revoked,
            "false_alarm_rate": round((len(alerts) + revoked) / requests, 5) if requests
            else None,
            "revoked_family_rate": round(revoked / len(families), 5) if families else None}


def lines(result: dict[str, Any]) -> list[str]:
    out = [f"fapi-lab detect: {result['profile']} + {result['control']} "
           f"{json.dumps(result['params'])}; {result['users']} honest users, "
           f"{result['duration']} s"]
    for a in result["attacks"]:
        verdict = "DETECTED, family revoked" if a["detected"] else f"NOT detected ({a['status']})"
        when = (f"after {a['requests_to_revoke']} of its requests, "
                f"{a['wall_seconds_to_revoke']} wall s from its first request"
                if a["requests_to_revoke"] else "")
        out.append(f"  {a['attack']}: {verdict}; {a['alerts']} alerts {when}".rstrip())
    b = result["benign"]
    rate = "n/a" if b["false_alarm_rate"] is None else f"{b['false_alarm_rate']:.2%}"
    out.append(f"  benign ({' + '.join(b['workloads'])}): {b['bank_requests']} honest bank "
               f"requests in {b['families']} families ({b['linkings']} linkings, "
               f"{b['refreshes']} refreshes), {b['failures']} failures of {b['requests']}; "
               f"false alarms: "
               f"{b['alerts']} alerts on {b['alerted_families']} families, "
               f"{b['revoked_families']} families revoked; false-alarm rate {rate} "
               "(alerts + revocations per honest bank request)")
    return out
