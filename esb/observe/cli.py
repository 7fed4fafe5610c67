"""`esb status [--once] [--report]`: the live KPI view of a running bus, and the end-of-demo report."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from esb.bus_supervisor.supervisor import BusLayout, BusPlan, read_plan
from esb.demo.record import DemoRecord
from esb.observe.kafka_view import KafkaView
from esb.observe.report import build_report
from esb.observe.view import render_report, render_status, snapshot, throughput

__all__ = ["live_status", "print_report", "status"]

_console = Console()


def _plan_or_exit(layout: BusLayout) -> BusPlan:
    plan = read_plan(layout)
    if plan is None:
        _console.print(f"no bus has been started from {layout.root}: `esb bus up`")
        raise typer.Exit(1)
    return plan


def live_status(layout: BusLayout, once: bool = False, refresh_s: float = 1.0) -> None:
    plan = _plan_or_exit(layout)
    view = KafkaView(plan.endpoints.bootstrap_servers)
    try:
        if once:
            _console.print(render_status(snapshot(layout, plan, view), plan))
            return
        rows = snapshot(layout, plan, view)
        taken = time.monotonic()
        with Live(render_status(rows, plan), console=_console, refresh_per_second=2) as live:
            while True:
                time.sleep(refresh_s)
                latest, now = snapshot(layout, plan, view), time.monotonic()
                live.update(render_status(latest, plan, throughput(rows, latest, now - taken)))
                rows, taken = latest, now
    finally:
        view.close()


def print_report(layout: BusLayout) -> None:
    plan = _plan_or_exit(layout)
    demo = DemoRecord.load(layout.root / "last-demo.json")
    if demo is None:
        _console.print("no demo has run against this bus yet: `esb demo`")
        raise typer.Exit(1)
    view = KafkaView(plan.endpoints.bootstrap_servers, plan.endpoints.schema_registry_url)
    projector = plan.process("inventory-projector")
    try:
        report = build_report(
            demo,
            view,
            jaeger_url=plan.endpoints.jaeger_query_url,
            target_url=plan.target_url,
            projector_urls=(projector.ops_url,) if projector else (),
        )
    finally:
        view.close()
    _console.print(render_report(report))


def status(
    once: Annotated[bool, typer.Option("--once", help="one snapshot instead of the live view")] = False,
    report: Annotated[bool, typer.Option("--report", help="the report of the last demo run")] = False,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="the bus's folder (esb bus up)")
    ] = None,
) -> None:
    """Per service: records in/out, errors, lag, latency, last error, uptime; business counters."""
    from esb.bus_supervisor.cli import default_layout

    layout = default_layout(state_dir)
    if report:
        print_report(layout)
        return
    with contextlib.suppress(KeyboardInterrupt):
        live_status(layout, once=once)
