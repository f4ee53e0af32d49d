"""`fapi-lab dashboard`: the Streamlit dashboard alone, against a lab already running."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from lab.cli.client import CliError, read_running
from lab.cli.commands import port_number
from lab.cli.up import check_port_free
from lab.config import LabConfig
from lab.stopping import held_signals


def register(add: Any) -> None:
    dash = add("dashboard", "start the Streamlit dashboard alone, against the running lab")
    dash.add_argument("--port", type=port_number, default=8501, metavar="N")


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    return run_dashboard(config, args, console)


def run_dashboard(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    from dashboard import launch

    state = read_running(config)
    if state is None:
        raise CliError(f"no lab is running for {config.data_dir}; start one with "
                       f"`fapi-lab up` (it starts the dashboard too)")
    if state.get("dashboard"):
        console.print(f"the lab's own dashboard already runs at {state['dashboard']}; "
                      f"starting another on port {args.port}", highlight=False)
    check_port_free(config.host, args.port, "dashboard")
    try:
        process = launch.start(config.data_dir, host=config.host, port=args.port,
                               log=config.data_dir / "dashboard.log")
    except launch.DashboardStartError as error:
        raise CliError(f"the dashboard did not start: {error}") from None
    console.print(f"[bold green]dashboard[/] {process.url}  (Ctrl-C stops it)")
    with held_signals() as stop:
        try:
            while not stop.wait(0.5):
                if process.process.poll() is not None:
                    raise CliError(f"the dashboard exited (code {process.process.returncode}); "
                                   f"see {config.data_dir / 'dashboard.log'}")
        finally:
            process.stop()
    return 0
