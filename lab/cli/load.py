"""`fapi-lab load`: run Locust workloads against a lab and report what each control costs.

By default the run gets a private lab of its own, served like a deployment (gunicorn
workers, keep-alive, no capture), so figures measure the controls rather than the
development server, and a workshop's lab is left alone; `--running` loads the lab
`fapi-lab up` runs instead. Workloads run one after another, each under the controls
it needs (switched through the admin API and restored afterwards), each against
tokens obtained just before it from the real AS. Locust runs headless in child
processes (it monkey-patches the standard library with gevent), optionally as a
master and local workers, bounded in users and time, and only ever against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console

from lab import clock
from lab.admin.describe import serving_text
from lab.cli import load_rotation
from lab.cli.client import EXIT_USAGE, AdminClient, CliError, read_running
from lab.cli.up import MAX_WORKERS as MAX_SERVING_WORKERS
from lab.config import LabConfig
from lab.controls import profiles
from lab.load import report
from lab.load.workloads import BASE_PROFILE, DEFAULT_WORKLOADS, WORKLOADS, Workload
from lab.ports import free_loopback_port

MAX_USERS = 50
MAX_DURATION = 300
MAX_LOCUST_WORKERS = 8
# Workloads whose users keep no state across the Locust process (refresh chains, linkings
# counted in-process), so Locust workers can share them.
DISTRIBUTABLE = ("bearer", "dpop", "mtls", "token", "token-secret")
DEFAULT_DURATION = 15
ROOT = Path(__file__).resolve().parent.parent.parent


def register(add: Any) -> None:
    """Add the `load` subcommand; `add(name, help)` is build_parser's helper."""
    load = add("load", "run Locust workloads against a private production-like lab (or the "
                       "running one); req/s, latency, ratios")
    load.add_argument("--profile", "-p", default=BASE_PROFILE, choices=profiles.names(),
                      metavar="P", help=f"base profile the workloads run under, each with the "
                      f"controls it needs on top (default {BASE_PROFILE}; one of "
                      f"{', '.join(profiles.names())}); the lab's own is put back afterwards")
    load.add_argument("--workload", "-w", action="append", choices=list(WORKLOADS),
                      metavar="W", help=f"repeatable; one of {', '.join(WORKLOADS)} (default: "
                      f"{', '.join(DEFAULT_WORKLOADS)}: {len(DEFAULT_WORKLOADS)} × --duration, "
                      f"about {_default_minutes()} min in all with the defaults)")
    load.add_argument("--users", type=int, default=4, help=f"simulated users (1-{MAX_USERS})")
    load.add_argument("--duration", type=int, default=DEFAULT_DURATION,
                      help=f"seconds per workload (1-{MAX_DURATION}, default {DEFAULT_DURATION})")
    load.add_argument("--out", type=Path, default=Path("load-results"),
                      help="where results.json, results.md and results.svg go")
    load.add_argument("--running", action="store_true",
                      help="load the lab `fapi-lab up` is running, as it is served (default: "
                           "start a private lab for the run, served like a deployment)")
    load.add_argument("--workers", type=int, default=os.cpu_count() or 2, metavar="N",
                      help="gunicorn workers each for the AS and the bank of the private lab "
                           "(default: one per core)")
    load.add_argument("--locust-workers", type=int, default=0, metavar="N",
                      help="Locust's distributed mode on this machine: one master and N worker "
                           f"processes (0-{MAX_LOCUST_WORKERS}; workloads "
                           f"{', '.join(DISTRIBUTABLE)})")
    load_rotation.add_argument(load)


def _default_minutes() -> int:
    """Each workload also spends a second or two getting tokens and starting Locust."""
    return round(len(DEFAULT_WORKLOADS) * (DEFAULT_DURATION + 2) / 60)


def _loopback_only(urls: list[str]) -> None:
    for url in urls:
        host = urlsplit(url).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise CliError(f"fapi-lab load only runs against 127.0.0.1, not {url}", EXIT_USAGE)


class ControlState:
    """The lab's profile and switches before the run, put back afterwards."""

    def __init__(self, admin: AdminClient, base: str) -> None:
        self.admin, self.base = admin, base
        status = admin.get("/status")
        self.profile = str(status["profile"]).rstrip("*")
        self.enabled = set(status["enabled_controls"])

    def apply(self, workload: Workload) -> None:
        self.admin.post("/profile", {"name": self.base})
        if workload.controls:
            self.admin.post("/controls", {"changes": workload.controls})

    def restore(self) -> None:
        self.admin.post("/profile", {"name": self.profile})
        now = self._enabled()
        changes = {cid: "on" for cid in self.enabled - now}
        changes.update({cid: "off" for cid in now - self.enabled})
        if changes:
            self.admin.post("/controls", {"changes": changes})

    def _enabled(self) -> set[str]:
        return set(self.admin.get("/status")["enabled_controls"])


def _locust(workload: Workload, material: Path, users: int, duration: int, csv_prefix: Path,
            console: Console, locust_workers: int = 0) -> subprocess.CompletedProcess[str]:
    """Locust headless; with `locust_workers`, as one master and that many worker processes
    on loopback (the master alone writes the statistics)."""
    env = dict(os.environ, FAPI_LAB_LOAD_MATERIAL=str(material), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    base = [sys.executable, "-m", "locust", "-f", str(workload.locustfile),
            "--loglevel", "WARNING", "--skip-log-setup"]
    command = [*base, "--headless", "--users", str(users), "--spawn-rate", str(users),
               "--run-time", f"{duration}s", "--stop-timeout", "5", "--csv", str(csv_prefix),
               "--only-summary", "--exit-code-on-error", "0"]
    workers: list[list[str]] = []
    if locust_workers:
        port = free_loopback_port()
        command += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port",
                    str(port), "--expect-workers", str(locust_workers),
                    "--expect-workers-max-wait", "30"]
        workers = [[*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                   ] * locust_workers
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, text=True)
        helpers = [subprocess.Popen(w, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=log, text=True) for w in workers]
        started = time.monotonic()
        mode = f", {locust_workers} Locust workers" if locust_workers else ""
        try:
            with console.status(f"{workload.name}: starting", spinner="dots") as status:
                while proc.poll() is None:
                    elapsed = time.monotonic() - started
                    if elapsed > duration + 60 + (30 if locust_workers else 0):
                        raise CliError(f"locust did not stop for workload {workload.name}")
                    status.update(f"{workload.name}: {min(elapsed, duration):.0f}/{duration} "
                                  f"s, {users} users{mode}")
                    time.sleep(0.25)
        finally:
            for child in [proc, *helpers]:
                if child.poll() is None:
                    child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        log.seek(0)
        return subprocess.CompletedProcess(command, proc.returncode, log.read(), "")


@contextmanager
def target_lab(config: LabConfig, args: argparse.Namespace,
               console: Console) -> Iterator[LabConfig]:
    """The lab to load: a private one served by gunicorn (the default), or the running one."""
    if args.running:
        running = read_running(config)
        if running is None:
            raise CliError("no lab is running for --running: start one with `fapi-lab up "
                           "--workers 2 --no-capture`, or leave --running out")
        serving = running.get("serving") or {}
        if not serving.get("workers"):
            console.print("note: the running lab is on Werkzeug's development server, which "
                          "closes every connection; figures measure that more than the "
                          "controls (`fapi-lab up --workers 2`)", style="yellow",
                          highlight=False)
        if running.get("capture"):
            console.print("note: capture is on: every request also crosses mitmproxy",
                          style="yellow", highlight=False)
        # The lab's URLs as it runs them (running.json), not the defaults of a fresh config.
        yield LabConfig(data_dir=config.data_dir, as_port=_port(running["as"]),
                        bank_port=_port(running["bank"]), tpp_port=_port(running["tpp"]))
        return
    from lab.serving.pool import ServingStartError
    from lab.serving.private import private_lab

    with ExitStack() as stack:
        with console.status(f"starting a private lab: gunicorn, {args.workers} workers each "
                            f"for the AS and the bank", spinner="dots"):
            try:
                lab = stack.enter_context(private_lab(profile=args.profile,
                                                      workers=args.workers,
                                                      prefix="fapi-lab-load-lab-"))
            except (OSError, ServingStartError) as error:
                raise CliError(f"could not start the private lab: {error}") from None
        console.print(f"private lab: {serving_text(lab.status()['serving'])}; no capture; "
                      f"in {lab.config.data_dir}", highlight=False)
        yield lab.config


def run_load(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    if not 1 <= args.users <= MAX_USERS:
        raise CliError(f"--users must be 1-{MAX_USERS}", EXIT_USAGE)
    if not 1 <= args.duration <= MAX_DURATION:
        raise CliError(f"--duration must be 1-{MAX_DURATION} seconds", EXIT_USAGE)
    if not 1 <= args.workers <= MAX_SERVING_WORKERS:
        raise CliError(f"--workers must be 1-{MAX_SERVING_WORKERS}", EXIT_USAGE)
    if not 0 <= args.locust_workers <= MAX_LOCUST_WORKERS:
        raise CliError(f"--locust-workers must be 0-{MAX_LOCUST_WORKERS}", EXIT_USAGE)
    names = list(dict.fromkeys(args.workload or DEFAULT_WORKLOADS))
    if args.locust_workers:
        if not args.workload:
            names = [n for n in names if n in DISTRIBUTABLE]
        kept = [n for n in names if n not in DISTRIBUTABLE]
        if kept:
            raise CliError(f"{', '.join(kept)} keep per-user state in one Locust process; run "
                           f"them without --locust-workers", EXIT_USAGE)
    load_rotation.check(args, names)
    with target_lab(config, args, console) as lab:
        return _run(lab, names, args, console)


def _run(lab: LabConfig, names: list[str], args: argparse.Namespace, console: Console) -> int:
    admin = AdminClient.connect(lab)
    _loopback_only([admin.base, lab.as_url, lab.bank_url])

    from importlib.metadata import version

    from lab.load import prepare
    from lab.store import SQLiteStore

    store = SQLiteStore(lab.db_path)
    out: Path = args.out.expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    saved = ControlState(admin, args.profile)
    results: dict[str, report.Result] = {}
    skipped: dict[str, str] = {}
    console.print(f"fapi-lab load: {', '.join(names)}; {args.users} users, {args.duration} s "
                  f"each, base profile {args.profile}, against {lab.as_url} and {lab.bank_url}")
    try:
        with tempfile.TemporaryDirectory(prefix="fapi-lab-load-") as tmp:
            for name in names:
                workload = WORKLOADS[name]
                saved.apply(workload)
                console.print(f"{name}: preparing ({workload.what})")
                offset = clock.offset(store)   # the payment workloads age their grants
                try:
                    material = prepare.material(lab, store, name, args.users,
                                                load_rotation.material(admin, args))
                except prepare.PrepareError as error:
                    _put_clock_back(store, offset)
                    # The lab refused what this workload needs under this profile: say so, and
                    # go on with the others rather than stop the whole run.
                    skipped[name] = str(error)
                    console.print(f"{name}: skipped under {args.profile}: {error}",
                                  style="yellow", highlight=False)
                    continue
                except BaseException:
                    _put_clock_back(store, offset)
                    raise
                path = Path(tmp) / f"{name}.json"
                path.write_text(json.dumps(material))
                path.chmod(0o600)
                report.summary_path(out / name).unlink(missing_ok=True)   # no stale figures
                try:
                    done = _locust(workload, path, args.users, args.duration, out / name,
                                   console, args.locust_workers)
                finally:
                    prepare.release(lab, material)
                    _put_clock_back(store, offset)
                try:
                    results[name] = report.read_stats(name, out / name)
                except (OSError, ValueError):
                    raise CliError(f"{name}: locust produced no statistics "
                                   f"(exit {done.returncode}): {done.stdout[-400:]}") from None
                console.print(results[name].line())
                for line in results[name].step_lines():
                    console.print(line, highlight=False)
    finally:
        saved.restore()
    rows = report.comparisons(results)
    if rows:
        console.print("comparison (same run):")
        for line in report.comparison_lines(rows):
            console.print(f"  {line}")
    serving = admin.get("/status").get("serving") or {}
    files = report.write(out, results, {"users": args.users, "duration": args.duration,
                                        "profile": args.profile, "locust": version("locust"),
                                        "skipped": skipped, "serving": serving,
                                        "locust_workers": args.locust_workers,
                                        "rotate_keys_after": getattr(args, "rotate_keys_after",
                                                                     None)})
    console.print(f"wrote {', '.join(str(f) for f in files)}")
    unrotated = load_rotation.problems(results) if getattr(args, "rotate_keys_after", None) \
        else []
    for problem in unrotated:
        console.print(problem, style="red", highlight=False)
    return 0 if all(r.failures == 0 for r in results.values()) and not skipped \
        and not unrotated else 1


def _put_clock_back(store: Any, offset: float) -> None:
    """The lab clock as it was before a workload moved it (a workshop's lab keeps its time)."""
    if clock.offset(store) != offset:
        clock.reset(store)
        if offset > 0:
            clock.advance(store, offset)


def _port(url: str) -> int:
    port = urlsplit(url).port
    if port is None:
        raise CliError(f"running.json names {url!r} without a port")
    return port
