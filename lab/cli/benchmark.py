"""`fapi-lab benchmark`: issues 7 and 18's benchmark, one run, printed and written (never a test).

It starts a private production-like lab (gunicorn workers, no capture) in a temporary
data directory, pins it to the server CPUs and the load generator (wrk, ab) to the
others, runs every row for --duration seconds, and prints rates, ratios to a bare
endpoint of the same server and to the raw ES256 verification rate, each row's crypto
floor, panva's oidc-provider beside the lab's token endpoint, a DPoP call through the
capture (a second private lab, with mitmproxy), the CLI's start-up, and every issue-18
target as measured / target / met; the matrix targets from the last matrix run found.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from lab.cli.client import EXIT_USAGE, CliError
from lab.config import LabConfig

MAX_DURATION = 15     # seconds per row: proofs and assertions are signed for a 60 s window
DEFAULT_DURATION = 10


def _default_cpus() -> tuple[str, str]:
    """The first half of this process's CPUs serve, the rest generate load (0 and 1 here)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "", ""   # one CPU: nothing to pin apart
    half = len(cpus) // 2
    return ",".join(map(str, cpus[:half])), ",".join(map(str, cpus[half:]))


def register(add: Any) -> None:
    """Add the `benchmark` subcommand; `add(name, help)` is build_parser's helper."""
    server, client = _default_cpus()
    bench = add("benchmark", "issue 7 and 18's benchmark: bank calls/s and token issuance/s "
                             "(bearer, DPoP, mTLS, DPoP through the capture) against bare "
                             "endpoints, ES256 and oidc-provider; how long `fapi-lab --help`, "
                             "`totp alice`, `status` take; every issue-18 target, met or not")
    bench.add_argument("--duration", type=int, default=DEFAULT_DURATION,
                       help=f"seconds per row (1-{MAX_DURATION}, default {DEFAULT_DURATION}; "
                            "12 rows)")
    bench.add_argument("--warmup", type=int, default=2,
                       help="seconds of the same load before each row is measured (0-5, "
                            "default 2): first requests pay for lazy loading")
    bench.add_argument("--connections", type=int, default=8,
                       help="open connections of the load generator (default 8)")
    bench.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    bench.add_argument("--threads", type=int, default=4,
                       help="threads per gunicorn worker (default 4)")
    bench.add_argument("--server-cpus", default=server, metavar="LIST",
                       help=f"CPUs of the servers, taskset syntax (default {server or 'none'})")
    bench.add_argument("--client-cpus", default=client, metavar="LIST",
                       help=f"CPUs of the load generator (default {client or 'none'})")
    bench.add_argument("--no-oidc-provider", action="store_true",
                       help="leave out panva's oidc-provider (needs Node.js and "
                            "tests/interop/node_modules)")
    bench.add_argument("--startup-runs", type=int, default=5, metavar="N",
                       help="whole-process runs of each start-up command, after one not "
                            "counted (1-20, default 5; the median is the figure)")
    bench.add_argument("--matrix", type=Path, action="append", default=[], metavar="DIR",
                       help="a `fapi-lab matrix --out` directory to read the matrix targets "
                            "from (repeatable; also searched: the dashboard's "
                            "$FAPI_LAB_MATRIX_DIR or <data dir>/matrix, and ./matrix-results)")
    bench.add_argument("--out", type=Path, default=Path("benchmark-results"),
                       help="where benchmark.json and benchmark.md go")


def _terminated(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _check_cpus(server: str, client: str) -> None:
    from lab.load.bench_machine import cpu_set

    try:
        serving, generating = cpu_set(server), cpu_set(client)
    except ValueError:
        raise CliError("CPU lists look like 0 or 0,1 or 0-3", EXIT_USAGE) from None
    mine = os.sched_getaffinity(0)
    if not serving <= mine or not generating <= mine or serving & generating:
        raise CliError(f"--server-cpus and --client-cpus must be separate CPUs among "
                       f"{sorted(mine)}", EXIT_USAGE)


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run, every setting spelled out."""
    words = ["fapi-lab", "benchmark", "--duration", str(args.duration), "--warmup",
             str(args.warmup), "--connections",
             str(args.connections), "--workers", str(args.workers), "--threads",
             str(args.threads), "--startup-runs", str(args.startup_runs)]
    if args.server_cpus:
        words += ["--server-cpus", args.server_cpus, "--client-cpus", args.client_cpus]
    if args.no_oidc_provider:
        words.append("--no-oidc-provider")
    for directory in args.matrix:
        words += ["--matrix", str(directory)]
    return shlex.join([*words, "--out", str(args.out)])


def _matrix_targets(config: LabConfig, given: list[Path]) -> list[dict[str, Any]]:
    """The matrix targets from the newest complete run in these directories: the given ones,
    the dashboard's (where its estimate reads the last run) and `fapi-lab matrix`'s default."""
    from attacker import lookup
    from lab.load import bench_matrix

    configured = os.environ.get("FAPI_LAB_MATRIX_DIR")   # dashboard.matrix_job.results_dir
    dashboard = Path(configured) if configured else config.data_dir / "matrix"
    return bench_matrix.targets([*given, dashboard, Path("matrix-results")],
                                len(lookup.implemented()))


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    from lab.load import bench_report, bench_run
    from lab.load.bench_wrk import BenchError

    if not 1 <= args.duration <= MAX_DURATION:
        raise CliError(f"--duration must be 1-{MAX_DURATION} seconds", EXIT_USAGE)
    if not 0 <= args.warmup <= 5:
        raise CliError("--warmup must be 0-5 seconds", EXIT_USAGE)
    if not 1 <= args.connections <= 256 or not 1 <= args.workers <= 16 \
            or not 1 <= args.threads <= 64:
        raise CliError("--connections 1-256, --workers 1-16, --threads 1-64", EXIT_USAGE)
    if not 1 <= args.startup_runs <= 20:
        raise CliError("--startup-runs must be 1-20", EXIT_USAGE)
    if bool(args.server_cpus) != bool(args.client_cpus):
        raise CliError("give both --server-cpus and --client-cpus, or neither", EXIT_USAGE)
    if args.server_cpus:
        _check_cpus(args.server_cpus, args.client_cpus)
    settings = bench_run.Settings(
        duration=args.duration, connections=args.connections, workers=args.workers,
        threads=args.threads, server_cpus=args.server_cpus, client_cpus=args.client_cpus,
        oidc_provider=not args.no_oidc_provider, command=_command(args), warmup=args.warmup,
        startup_runs=args.startup_runs)
    if not settings.server_cpus:
        console.print("one CPU: server and generator share it; ratios are rough",
                      style="yellow")
    console.print(f"fapi-lab benchmark: {args.duration} s per row, server on CPUs "
                  f"{settings.server_cpus or 'all'}, generator on {settings.client_cpus or 'all'}")
    # SIGTERM unwinds like Ctrl-C, so the private lab's gunicorn and oidc-provider stop too.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        with tempfile.TemporaryDirectory(prefix="fapi-lab-bench-material-") as tmp:
            result = bench_run.run(settings, console, Path(tmp))
    except BenchError as error:
        raise CliError(str(error)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    result.matrix = _matrix_targets(config, args.matrix)
    bench_report.print_tables(result, console)
    files = bench_report.write(args.out.expanduser().resolve(), result)
    console.print(f"wrote {', '.join(str(f) for f in files)}")
    failed = [row for row, m in result.measurements.items() if m.failed or m.material_ran_out]
    failed += [t.label for t in result.startup if any(t.exit_codes)]
    if failed:
        console.print(f"rows with failed requests: {', '.join(failed)}", style="red")
        return 1
    return 0
