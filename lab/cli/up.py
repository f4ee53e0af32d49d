"""`fapi-lab up`: check the ground, start the lab, say how to use it, stop cleanly on a signal.

The checks come first (profile, bind host, a lab already running, ports in use) so
a mistake costs one readable line, not a half-started lab.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import signal
import socket
from typing import Any

from rich.console import Console

from lab.admin.describe import serving_text
from lab.cli.client import EXIT_USAGE, CliError, read_running, state_pid
from lab.cli.commands import port_number
from lab.config import LOOPBACK, LabConfig
from lab.controls import profiles
from lab.domain.customers import DEMO_USERS
from lab.ports import listener
from lab.serving import datadir_lock, in_process
from lab.serving.pool import ServingStartError
from lab.stopping import held_signals
from lab.store.redis_once import StoreUrlError


def register(add: Any) -> None:
    up = add("up", "start the lab and run until Ctrl-C")
    up.add_argument("--profile", help="apply this profile on start (default: keep the current)")
    up.add_argument("--no-capture", action="store_true", help="run without mitmproxy capture")
    up.add_argument("--host", default=LOOPBACK, help="bind address (default 127.0.0.1)")
    up.add_argument("--allow-remote", action="store_true",
                    help="allow a non-loopback --host (the lab is deliberately vulnerable)")
    for name, default in (("as", 9443), ("bank", 9444), ("tpp", 9445), ("gateway", 9449)):
        up.add_argument(f"--{name}-port", type=port_number, default=default, metavar="N")
    up.add_argument("--access-tokens", choices=("jwt", "opaque"), default="jwt",
                    help="jwt: FinLens holds the AS's JWT (default); opaque: a reference "
                         "token, traded for a JWT by the phantom-token gateway in front of "
                         "the bank (docs/gateway.md)")
    up.add_argument("--dashboard-port", type=port_number, default=8501, metavar="N")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    up.add_argument("--workers", type=int, default=0, metavar="N",
                    help="serve the AS and the bank with gunicorn, N worker processes "
                         "(production-like, for load tests; default 0: Werkzeug's "
                         "development server in this process)")
    up.add_argument("--threads", type=int, default=4, metavar="N",
                    help="threads per gunicorn worker (default 4)")
    up.add_argument("--store", metavar="URL", default=None,
                    help="redis://host:port[/db]: decide single use (codes, request_uris, "
                         "jti, refresh tokens) in that Redis server, for labs on several "
                         "hosts (default: the SQLite file)")


def run(_config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    """The host and ports come from args: run_up makes its own LabConfig."""
    return run_up(args, console)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int, name: str) -> None:
    """Bind and release, as the server will; a port in use gets a message naming its option."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CliError(port_in_use(host, port, name)) from None
            raise CliError(f"cannot listen on {host}:{port} for the {name}: "
                           f"{error.strerror or error}") from None


# How `fapi-lab up` and its children show in a process list.
UP_MARKS = ("lab.cli", "fapi-lab")
CHILD_MARKS = ("lab.serving.gunicorn_app", "dashboard/app.py")


def _whose(pid: int, command: str) -> str:
    """' - another FAPI Lab' or ' - a leftover of an earlier `fapi-lab up`' where it shows."""
    import psutil

    if any(mark in command for mark in UP_MARKS):
        return " - another FAPI Lab"
    if not any(mark in command for mark in CHILD_MARKS):
        return ""
    try:
        parent = " ".join(psutil.Process(pid).parent().cmdline())  # type: ignore[union-attr]
    except (psutil.Error, AttributeError):
        parent = ""
    if any(mark in parent for mark in UP_MARKS):
        return " - part of another running FAPI Lab"
    return " - a leftover of an earlier `fapi-lab up`"


def port_in_use(host: str, port: int, name: str) -> str:
    """Who holds the port, where psutil can tell, and the two ways out."""
    found = listener(port)
    if found is None:
        return (f"port {port} on {host} is in use by another program (`ss -ltnp 'sport = "
                f":{port}'` names it); stop it, or choose another port for the {name} with "
                f"--{name}-port")
    pid, command = found
    return (f"port {port} is in use by pid {pid} ({command}){_whose(pid, command)}; free it "
            f"with `kill {pid}`, or choose another port for the {name} with --{name}-port")


def preflight(config: LabConfig, args: argparse.Namespace, console: Console) -> None:
    if args.profile is not None and args.profile not in profiles.names():
        raise CliError(f"unknown profile {args.profile!r} "
                       f"(known: {', '.join(profiles.names())})", EXIT_USAGE)
    if not is_loopback(config.host):
        if not args.allow_remote:
            raise CliError(f"refusing to bind {config.host}: the lab is deliberately vulnerable "
                           f"when controls are off; add --allow-remote if you really mean it",
                           EXIT_USAGE)
        console.print(f"[bold red]WARNING[/]: binding {config.host}. Anyone who can reach this "
                      f"host can use a deliberately vulnerable bank. Keep it on a trusted network.")
    ports = {"as": config.as_port, "bank": config.bank_port, "tpp": config.tpp_port}
    if config.opaque_tokens:
        ports["gateway"] = config.gateway_port
    if not 0 <= args.workers <= MAX_WORKERS:
        raise CliError(f"--workers must be 0-{MAX_WORKERS}", EXIT_USAGE)
    if not 1 <= args.threads <= MAX_THREADS:
        raise CliError(f"--threads must be 1-{MAX_THREADS}", EXIT_USAGE)
    if args.store is not None:
        from lab.store.redis_once import StoreUrlError, check_url

        try:
            check_url(args.store)
        except StoreUrlError as error:
            raise CliError(str(error), EXIT_USAGE) from None
    if len(set(ports.values())) != len(ports):
        raise CliError(f"the AS, bank and TPP need three different ports, got {ports}",
                       EXIT_USAGE)
    running = read_running(config)
    if running is not None:
        raise CliError(f"a lab is already running for {config.data_dir} (pid "
                       f"{state_pid(running)}, AS at {running.get('as')}); stop it first "
                       f"(Ctrl-C in its terminal, or kill {state_pid(running)})")
    for name, port in ports.items():
        check_port_free(config.host, port, name)
    if not args.no_dashboard:
        check_port_free(config.host, args.dashboard_port, "dashboard")


MAX_WORKERS = 32
MAX_THREADS = 64


def banner(lab: in_process.RunningLab, console: Console,
           attacker_urls: dict[str, str] | None = None) -> None:
    attacker_urls = attacker_urls or {}
    config, status = lab.config, lab.status()
    console.print("[bold green]FAPI Lab is running[/]")
    console.print(f"  authorization server  {config.as_url}   (issuer {config.issuer})")
    console.print(f"  bank                  {config.bank_url}")
    console.print(f"  TPP (FinLens)         {config.tpp_url}")
    if config.opaque_tokens:
        console.print(f"  gateway (opaque)      {config.gateway_url}")
    console.print(f"  admin API             {config.as_url}/admin  "
                  f"(token in {config.admin_token_path})")
    console.print(f"  profile               {status['profile']} "
                  f"({len(status['enabled_controls'])} controls on; `fapi-lab controls`)")
    console.print(f"  data directory        {config.data_dir}")
    serving = status.get("serving") or {}
    if serving.get("workers") or serving.get("single_use", "sqlite") != "sqlite":
        console.print(f"  serving               {serving_text(serving)}")
    if lab.capture is not None:
        console.print("  capture               mitmproxy on the public ports "
                      "(`fapi-lab capture list`)")
    for name, url in attacker_urls.items():
        console.print(f"  {name:<21} {url}")
    if status.get("dashboard"):
        console.print(f"  [bold]dashboard[/]             {status['dashboard']}   "
                      f"(Streamlit: controls, attacks, matrix, workshop)")
    console.print("[bold]Demo users[/]")
    for user in DEMO_USERS:
        if user.second_factor == "totp":
            factor = (f"TOTP secret {user.totp_secret} "
                      f"(or `fapi-lab totp {user.username}`)")
        else:
            factor = f"4-digit code by SMS: read it at {config.as_url}/lab/sms"
        console.print(f"  {user.username:<8} / {user.password:<11} {factor}")
    ca = config.ca_cert_path
    console.print(f"[bold]Lab CA[/] {ca}")
    console.print(f"  browser: import it as a trusted authority (or accept the warning once "
                  f"per origin); curl: --cacert {ca}; Python requests: verify='{ca}'")
    console.print("Press Ctrl-C to stop.", highlight=False)


def start_attacker_fixtures(lab: in_process.RunningLab, console: Console) -> dict[str, str]:
    """The attacker's site, PartnerRewards and EvilBank (attacks.md §0), so FinLens's
    directory lists working institutions and attacks find them running."""
    if lab.capture is None:
        return {}
    try:
        from attacker import fixtures

        fx = fixtures.ensure_running(lab.config, lab.store)
    except Exception as error:  # the lab works without them; attacks start their own
        console.print(f"  (attacker fixtures not started: {error})", highlight=False)
        return {}
    return {"attacker site": fx.site, "PartnerRewards": fx.partner, "EvilBank AS": fx.evil_as}


def start_dashboard(lab: in_process.RunningLab, port: int, console: Console) -> Any:
    """Streamlit beside the lab; the lab runs on without it if it cannot start."""
    from dashboard import launch

    log = lab.config.data_dir / "dashboard.log"
    try:
        process = launch.start(lab.config.data_dir, host=lab.config.host, port=port, log=log)
    except (launch.DashboardStartError, OSError) as error:
        console.print(f"  (dashboard not started: {error})", highlight=False)
        return None
    lab.set_dashboard(process.url)
    return process


def run_up(args: argparse.Namespace, console: Console) -> int:
    config = LabConfig(data_dir=args.data_dir, host=args.host, as_port=args.as_port,
                       bank_port=args.bank_port, tpp_port=args.tpp_port,
                       access_tokens=args.access_tokens, gateway_port=args.gateway_port)
    if config.opaque_tokens and args.workers:
        raise CliError("--access-tokens opaque runs the bank in process: drop --workers")
    try:
        with datadir_lock.hold(config.data_dir):
            return _run_up(config, args, console)
    except datadir_lock.DataDirBusy as busy:
        raise CliError(str(busy)) from None


def _run_up(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    """The lab's whole life, with the data directory held (lab.serving.datadir_lock)."""
    preflight(config, args, console)
    # Held from the start: a Ctrl-C or SIGTERM while the lab, the fixtures and the dashboard
    # start waits until they are up, so nothing half-started is left behind (a running.json,
    # a Streamlit child on its port); then everything stops in order.
    with held_signals() as stop:
        try:
            lab = in_process.start(config, profile=args.profile, capture=not args.no_capture,
                               workers=args.workers, threads=args.threads,
                               store_url=args.store)
        except OSError as error:
            raise CliError(f"could not start the lab: {error.strerror or error}") from None
        except (ServingStartError, StoreUrlError) as error:
            raise CliError(f"could not start the lab: {error}") from None
        fixtures = start_attacker_fixtures(lab, console)
        dashboard = None
        if not args.no_dashboard and not stop.requested:
            dashboard = start_dashboard(lab, args.dashboard_port, console)
        try:
            if not stop.requested:
                banner(lab, console, fixtures)
                console.file.flush()
            signum = in_process.serve_until_signal(lab, stop)
        finally:
            if dashboard is not None:
                dashboard.stop()
    console.print(f"stopped ({'SIGTERM' if signum == signal.SIGTERM else 'Ctrl-C'}); "
                  f"{config.state_file.name} removed", highlight=False)
    return 0
