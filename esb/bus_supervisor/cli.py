"""`esb bus up | down | status | run`: the whole bus on this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from esb.bus_supervisor.supervisor import (
    BusLayout,
    ProcessState,
    apply_governance,
    plan_bus,
    read_plan,
    start_bus,
    status,
    stop_bus,
)
from esb.devstack import stack
from esb.devstack.fetch import MissingToolError
from esb.devstack.processes import PortTakenError, StartFailedError
from esb.devstack.settings import DevStackSettings
from esb.devstack.stack import StackEndpoints

__all__ = ["app", "default_layout"]

app = typer.Typer(
    help="Run the whole bus locally: stack, catalog, schemas and every service.", no_args_is_help=True
)
_console = Console()

StateOption = Annotated[
    Path | None, typer.Option("--state-dir", help="bus plan, logs, pids (default: <ESB_DEV_STATE_DIR>/bus)")
]


def default_layout(state_dir: Path | None = None) -> BusLayout:
    return BusLayout((state_dir or DevStackSettings().state_dir / "bus").resolve())


def _endpoints_from_env() -> StackEndpoints:
    try:
        return StackEndpoints(
            bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            schema_registry_url=os.environ["SCHEMA_REGISTRY_URL"],
            otlp_http_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            jaeger_query_url=os.environ.get("JAEGER_QUERY_URL", ""),
        )
    except KeyError as missing:
        raise typer.BadParameter(f"--no-stack needs {missing.args[0]} in the environment") from None


def print_states(states: list[ProcessState], missing: list[str]) -> None:
    table = Table("process", "pid", "state", "url", "log")
    for row in states:
        state = (
            "[green]ready[/green]"
            if row.ready
            else ("[yellow]starting[/yellow]" if row.pid else "[red]exited[/red]")
        )
        table.add_row(row.name, str(row.pid or "-"), state, row.url, row.log_file)
    for name in missing:
        table.add_row(name, "-", "[dim]not built yet[/dim]", "", "")
    _console.print(table)


def bring_up(
    layout: BusLayout,
    *,
    use_stack: bool,
    base_port: int | None,
    gateway_port: int | None,
    only: list[str] | None,
    instance_id: str,
    ready_timeout_s: float,
) -> bool:
    """Stack, catalog, schemas, services. True when every started process is ready."""
    if use_stack:
        _console.print("starting the local stack (esb dev up)...")
        endpoints = stack.up(DevStackSettings())
        _console.print(f"Kafka {endpoints.bootstrap_servers}, Jaeger {endpoints.jaeger_query_url}")
    else:
        endpoints = _endpoints_from_env()
    _console.print("applying the topic catalog (replication 1) and registering the schemas...")
    for problem in apply_governance(endpoints, replication_factor=1):
        _console.print(f"[yellow]catalog:[/yellow] {problem}")
    plan = plan_bus(
        endpoints, instance_id=instance_id, base_port=base_port, gateway_port=gateway_port, only=only
    )
    _console.print(f"starting {len(plan.processes)} processes (logs in {layout.run_dir})...")
    states = start_bus(layout, plan, ready_timeout_s=ready_timeout_s)
    print_states(states, plan.missing)
    return all(s.ready for s in states)


@app.command("up")
def up_command(
    state_dir: StateOption = None,
    base_port: Annotated[int, typer.Option(help="ops port of the first service; the others follow")] = 9400,
    gateway_port: Annotated[int, typer.Option(help="webhook port of the gateway")] = 8080,
    only: Annotated[str | None, typer.Option(help="comma-separated services to start (default: all)")] = None,
    no_stack: Annotated[
        bool, typer.Option("--no-stack", help="use KAFKA_BOOTSTRAP_SERVERS etc. instead of esb dev up")
    ] = False,
    instance_id: Annotated[str, typer.Option(help="ESB_INSTANCE_ID of every process")] = "local",
    ready_timeout: Annotated[float, typer.Option(help="seconds to wait for /readyz")] = 120.0,
) -> None:
    """Start the stack, apply the catalog, register schemas, start every available service. Idempotent."""
    try:
        ok = bring_up(
            default_layout(state_dir),
            use_stack=not no_stack,
            base_port=base_port,
            gateway_port=gateway_port,
            only=only.split(",") if only else None,
            instance_id=instance_id,
            ready_timeout_s=ready_timeout,
        )
    except (MissingToolError, PortTakenError, StartFailedError) as error:
        _console.print(f"[red]esb bus up failed:[/red] {error}")
        raise typer.Exit(1) from error
    if not ok:
        raise typer.Exit(1)


@app.command("status")
def status_command(state_dir: StateOption = None) -> None:
    """The bus's processes: pid, readiness, URL and log. (KPIs: `esb status`.)"""
    layout = default_layout(state_dir)
    plan = read_plan(layout)
    if plan is None:
        _console.print("no bus has been started from " + str(layout.root))
        raise typer.Exit(1)
    states = status(layout)
    print_states(states, plan.missing)
    if not all(s.ready for s in states):
        raise typer.Exit(1)


@app.command("down")
def down_command(
    state_dir: StateOption = None,
    with_stack: Annotated[
        bool, typer.Option("--stack", help="also stop the local stack (esb dev down)")
    ] = False,
) -> None:
    """Stop exactly the processes `esb bus up` started (and the stack with --stack)."""
    stopped = stop_bus(default_layout(state_dir))
    _console.print("stopped: " + (", ".join(stopped) if stopped else "no bus process was running"))
    if with_stack:
        _console.print("stack stopped: " + ", ".join(stack.down(DevStackSettings())))


@app.command("run")
def run_command(
    state_dir: StateOption = None,
    rate: Annotated[str, typer.Option(help="demo rate, e.g. 50/s")] = "50/s",
    minutes: Annotated[float, typer.Option(help="demo duration; 0 skips the demo")] = 1.0,
    seed: Annotated[int, typer.Option(help="demo seed")] = 1,
    detach: Annotated[
        bool, typer.Option("--detach", help="leave the bus running and return after the report")
    ] = False,
    base_port: Annotated[int, typer.Option()] = 9400,
    gateway_port: Annotated[int, typer.Option()] = 8080,
) -> None:
    """`make run`: bus up, a short demo, the report, then the live status until Ctrl-C stops everything."""
    from esb.demo.cli import run_demo
    from esb.observe.cli import live_status, print_report

    layout = default_layout(state_dir)
    settings = DevStackSettings()
    stack_was_up = any(component.pid is not None for component in stack.status(settings))
    keep_running = False
    try:
        bring_up(
            layout,
            use_stack=True,
            base_port=base_port,
            gateway_port=gateway_port,
            only=None,
            instance_id="local",
            ready_timeout_s=120.0,
        )
        if minutes > 0:
            run_demo(layout, rate=rate, minutes=minutes, events=None, mix=None, seed=seed, tag=None)
            _console.print("waiting 10 s for the last events to flow through...")
            time.sleep(10)
            print_report(layout)
        if detach:
            keep_running = True
            _console.print("the bus keeps running: `esb status`, `esb bus down --stack` to stop it")
            return
        _console.print("live status — Ctrl-C stops the bus")
        live_status(layout)
    except KeyboardInterrupt:
        pass
    except (MissingToolError, PortTakenError, StartFailedError) as error:
        _console.print(f"[red]esb bus run failed:[/red] {error}")
        raise typer.Exit(1) from error
    finally:
        if not keep_running:
            _console.print("stopping the bus...")
            stopped = stop_bus(layout)
            if not stack_was_up:  # a stack this run started goes with it
                stopped += stack.down(settings)
            _console.print("stopped: " + (", ".join(stopped) or "nothing"))
