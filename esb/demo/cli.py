"""`esb demo --rate 200/s --minutes 5 [--mix ...] [--seed N]`: realistic traffic into a running bus."""

from __future__ import annotations

import itertools
import secrets as token
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from esb.bus_supervisor.supervisor import BusLayout, read_plan
from esb.demo.fx import publish_rates
from esb.demo.generator import Generator, parse_mix
from esb.demo.pacing import parse_rate
from esb.demo.record import DemoRecord
from esb.demo.runner import RunSummary, run_events
from esb.demo.secrets import DemoSecrets

__all__ = ["demo", "run_demo"]

_console = Console()


def run_demo(
    layout: BusLayout,
    *,
    rate: str,
    minutes: float | None,
    events: int | None,
    mix: str | None,
    seed: int,
    tag: str | None,
    concurrency: int = 256,
) -> DemoRecord:
    plan = read_plan(layout)
    if plan is None or plan.gateway_url is None:
        raise typer.BadParameter(f"no bus with a gateway in {layout.root}: run `esb bus up` first")
    secrets = DemoSecrets.load(layout.secrets_file)
    run_tag = tag if tag is not None else token.token_hex(3).upper()
    generator = Generator(secrets, seed=seed, tag=run_tag, mix=parse_mix(mix))
    per_second = parse_rate(rate)
    publish_rates(plan.endpoints.bootstrap_servers, plan.endpoints.schema_registry_url)
    started = time.time()
    all_events = itertools.chain(generator.opening_stock(), generator)

    _console.print(
        f"demo {run_tag}: {rate} for {minutes or '-'} min / {events or '-'} events -> {plan.gateway_url}"
    )
    summary = run_events(
        all_events,
        gateway_url=plan.gateway_url,
        secrets=secrets,
        kafka_config={"bootstrap.servers": plan.endpoints.bootstrap_servers},
        rate=per_second,
        duration_s=minutes * 60 if minutes else None,
        limit=events,
        concurrency=concurrency,
    )
    record = DemoRecord.of(generator, summary, seed, started, time.time())
    record.save(layout.root / "last-demo.json")
    print_summary(summary, run_tag)
    return record


def print_summary(summary: RunSummary, tag: str) -> None:
    table = Table(
        title=f"demo {tag}: {summary.accepted} accepted in {summary.elapsed_s:.1f} s "
        f"({summary.achieved_rate:.1f}/s of {summary.planned_rate:.1f}/s planned)"
    )
    table.add_column("event")
    table.add_column("accepted", justify="right")
    for kind, count in sorted(summary.by_kind.items()):
        table.add_row(kind, str(count))
    _console.print(table)
    _console.print(
        "HTTP answers: "
        + ", ".join(f"{status}: {count}" for status, count in sorted(summary.by_status.items()))
        + f"; p50 {summary.percentile(0.5):.1f} ms, p99 {summary.percentile(0.99):.1f} ms"
        + f" (from each event's due time; sender late by p99 {summary.lag_percentile(0.99):.1f} ms)"
    )
    for topic, count in sorted(summary.skipped.items()):
        _console.print(f"[yellow]skipped {count} events: ingress topic {topic} does not exist[/yellow]")
    for error, count in sorted(summary.errors.items()):
        _console.print(f"[red]{count} x {error}[/red]")


def demo(
    rate: Annotated[str, typer.Option(help="events per second, e.g. 200/s")] = "200/s",
    minutes: Annotated[float | None, typer.Option(help="how long to send")] = 5.0,
    events: Annotated[
        int | None, typer.Option(help="stop after this many events (instead of/with --minutes)")
    ] = None,
    mix: Annotated[str | None, typer.Option(help="flow weights, e.g. shopify_order=30,stock=10")] = None,
    seed: Annotated[int, typer.Option(help="same seed + tag = same events")] = 1,
    tag: Annotated[str | None, typer.Option(help="run tag in SKUs, emails and ids (default: random)")] = None,
    concurrency: Annotated[
        int, typer.Option(help="open connections; requests beyond wait, timed from when they were due")
    ] = 256,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="the bus's folder (esb bus up)")
    ] = None,
) -> None:
    """Send realistic, signed native traffic to the running bus's gateway at a fixed rate."""
    from esb.bus_supervisor.cli import default_layout

    run_demo(
        default_layout(state_dir),
        rate=rate,
        minutes=minutes,
        events=events,
        mix=mix,
        seed=seed,
        tag=tag,
        concurrency=concurrency,
    )
