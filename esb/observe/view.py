"""`esb status`: one row per process (records in/out, lag, DLQ, latency, last error, uptime) plus
the business counters, refreshed about once a second; and the end-of-demo report as tables."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table

from esb.bus_supervisor.services import RECORDING_TARGET
from esb.bus_supervisor.supervisor import BusLayout, BusPlan
from esb.deploy.chart import REPO_ROOT
from esb.devstack.processes import ManagedProcess
from esb.observe.kafka_view import KafkaView
from esb.observe.metrics import ServiceKpis, scrape
from esb.observe.report import WARM_UP_S, DemoReport, percentile

_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")

__all__ = ["BUSINESS_COUNTERS", "ServiceRow", "render_report", "render_status", "snapshot", "throughput"]

# counter -> (service, output topic) whose esb_records_out it is
BUSINESS_COUNTERS = {
    "orders routed": ("order-router", "canonical.routed-orders.v1"),
    "ATP updates": ("inventory-projector", "canonical.inventory-levels.v1"),
    "journal entries": ("ledger-poster", "canonical.journal-entries.v1"),
    "golden customers": ("customer-merger", "canonical.golden-customers.v1"),
    "canonical orders": ("translator", "canonical.orders.v1"),
}


@dataclass(frozen=True, slots=True)
class ServiceRow:
    name: str
    pid: int | None
    kpis: ServiceKpis | None
    lag: int | None
    uptime_s: float | None
    last_error: str | None


def _uptime(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        start_ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        since_boot = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return since_boot - start_ticks / os.sysconf("SC_CLK_TCK")


def last_error(log_file: Path, max_bytes: int = 65_536) -> str | None:
    """The newest error-level line of a JSON (structlog) or plain log."""
    try:
        with log_file.open("rb") as handle:
            handle.seek(max(0, log_file.stat().st_size - max_bytes))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            if _EXCEPTION.match(line) or " ERROR " in line:
                return line[-120:]
            continue
        if isinstance(entry, dict) and str(entry.get("level", "")).lower() in (
            "error",
            "critical",
            "exception",
        ):
            return str(entry.get("event", line))[:120]
    return None


def snapshot(layout: BusLayout, plan: BusPlan, view: KafkaView | None) -> list[ServiceRow]:
    rows = []
    for process in plan.processes:
        if process.name == RECORDING_TARGET:
            continue
        managed = ManagedProcess(process.name, [], REPO_ROOT, layout.run_dir)
        pid = managed.pid()
        kpis = scrape(process.ops_url + process.metrics_path) if pid and process.metrics_path else None
        lag = view.lag(process.name) if view is not None and process.name != "gateway" else None
        rows.append(ServiceRow(process.name, pid, kpis, lag, _uptime(pid), last_error(managed.log_file)))
    return rows


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _n(value: float | int | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _rate(rates: dict[str, tuple[float, float]] | None, name: str, index: int) -> str:
    if not rates or name not in rates:
        return "-"
    return f"{rates[name][index]:,.1f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "down"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def throughput(
    before: Sequence[ServiceRow], after: Sequence[ServiceRow], seconds: float
) -> dict[str, tuple[float, float]]:
    """Records in/s and errors/s per service between two snapshots."""
    previous = {row.name: row.kpis for row in before}
    rates = {}
    for row in after:
        old, new = previous.get(row.name), row.kpis
        if old is not None and new is not None and seconds > 0:
            rates[row.name] = (
                max(0.0, new.records_in - old.records_in) / seconds,
                max(0.0, new.errors - old.errors) / seconds,
            )
    return rates


def render_status(
    rows: Sequence[ServiceRow], plan: BusPlan, rates: dict[str, tuple[float, float]] | None = None
) -> RenderableType:
    table = Table(title="esb — services", expand=True)
    for column in (
        "service",
        "uptime",
        "in",
        "in/s",
        "out",
        "errors",
        "err/s",
        "lag",
        "p50 ms",
        "p99 ms",
        "e2e p50",
        "e2e p99",
        "last error",
    ):
        table.add_column(column, justify="right" if column not in ("service", "last error") else "left")
    for row in rows:
        k = row.kpis
        table.add_row(
            row.name,
            _duration(row.uptime_s),
            _n(k.records_in if k else None),
            _rate(rates, row.name, 0),
            _n(k.records_out if k else None),
            _n(k.errors if k else None),
            _rate(rates, row.name, 1),
            # the runtime's own gauge (position-based); the group's committed offsets otherwise,
            # which count each partition's last transaction marker as one record of lag
            _n(k.lag if k and row.name != "gateway" else row.lag),
            _ms(k.handler.quantile(0.5) if k else None),
            _ms(k.handler.quantile(0.99) if k else None),
            _ms(k.end_to_end.quantile(0.5) if k else None),
            _ms(k.end_to_end.quantile(0.99) if k else None),
            (row.last_error or "")[:60],
        )
    for missing in plan.missing:
        table.add_row(f"[dim]{missing}[/dim]", "[yellow]not built yet[/yellow]", *[""] * 11)
    counters = Table(title="business", expand=True)
    for name in BUSINESS_COUNTERS:
        counters.add_column(name, justify="right")
    by_name = {row.name: row for row in rows}
    values = []
    for service, topic in BUSINESS_COUNTERS.values():
        kpis = by_name[service].kpis if service in by_name else None
        values.append(_n(kpis.out_by_topic.get(topic, 0.0)) if kpis else "-")
    counters.add_row(*values)
    return Group(table, counters)


def render_report(report: DemoReport) -> RenderableType:
    parts: list[RenderableType] = []
    books = Table(title=f"trial balance ({report.journal_entries} journal entries)")
    books.add_column("currency")
    books.add_column("debits - credits", justify="right")
    books.add_column("balanced")
    for currency, amount in sorted(report.balance.items()):
        books.add_row(currency, str(amount), "[green]yes[/green]" if amount == 0 else "[red]NO[/red]")
    parts.append(books)
    atp = Table(title="ATP of the top SKUs")
    atp.add_column("sku")
    atp.add_column("location")
    atp.add_column("on hand", justify="right")
    atp.add_column("reserved", justify="right")
    atp.add_column("ATP", justify="right")
    for sku, answer in report.atp.items():
        locations = answer.get("locations") if isinstance(answer, dict) else None
        if isinstance(locations, dict) and locations:
            for location, level in sorted(locations.items()):
                atp.add_row(
                    sku,
                    location,
                    _n(level.get("on_hand")),
                    _n(level.get("reserved")),
                    _n(level.get("available_to_promise")),
                )
        else:
            atp.add_row(sku, "-", "-", "-", json.dumps(answer)[:40])
    parts.append(atp)
    customers = Table(title="customers")
    customers.add_column("channel records", justify="right")
    customers.add_column("golden customers", justify="right")
    customers.add_column("merges of golden records", justify="right")
    customers.add_row(_n(report.customer_records), _n(report.golden_customers), _n(report.merges))
    parts.append(customers)
    dlq = Table(title="dead letters")
    for column in ("topic", "error", "message", "count"):
        dlq.add_column(column)
    for (topic, error, message), count in report.dlq.most_common(12):
        dlq.add_row(topic, error, message, str(count))
    parts.append(dlq)
    latency = Table(title="end-to-end latency")
    for column in ("path", "orders", "p50 ms", "p99 ms", f"p99 after {WARM_UP_S:g} s"):
        latency.add_column(column)
    for label, values, warm_values in (
        ("webhook -> canonical.orders.v1", report.webhook_to_canonical, report.warm_webhook_to_canonical),
        (
            f"webhook -> ERP ({report.documents} documents)",
            report.webhook_to_document,
            report.warm_webhook_to_document,
        ),
    ):
        latency.add_row(
            label,
            str(len(values)),
            _ms(percentile(values, 0.5)),
            _ms(percentile(values, 0.99)),
            _ms(percentile(warm_values, 0.99)),
        )
    parts.append(latency)
    if report.trace_url:
        parts.append(f"one order's trace ({', '.join(sorted(report.trace_services))}): {report.trace_url}")
    else:
        parts.append("one order's trace: none found in Jaeger yet")
    parts.extend(f"[yellow]{note}[/yellow]" for note in report.notes)
    return Group(*parts)
