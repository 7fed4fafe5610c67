"""The demo report's figures: latencies per order, from the webhook to the canonical event and to
the ERP document, over the whole run and over the orders sent after the warm-up; customers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from esb.demo.record import DemoRecord
from esb.observe.report import WARM_UP_S, DemoReport, latencies, latencies_by_order, sent_after
from esb.observe.view import render_report

pytestmark = pytest.mark.unit

STARTED_AT = 1_000.0


@dataclass(frozen=True)
class _Scanned:
    value: dict[str, Any]
    timestamp_ms: int


class _View:
    """canonical.orders.v1 as the report reads it."""

    def __init__(self, records: list[_Scanned]) -> None:
        self._records = records

    def scan(self, topic: str, since_ms: int) -> Iterator[_Scanned]:
        assert topic == "canonical.orders.v1"
        return iter([r for r in self._records if r.timestamp_ms >= since_ms])


def _run(orders: list[tuple[str, float, float, float]]) -> tuple[DemoRecord, _View, list[dict[str, Any]]]:
    """orders: (native id, sent, canonical, document) in seconds after the demo started."""
    demo = DemoRecord("t", 0, STARTED_AT, STARTED_AT + 60, [], {})
    records, documents = [], []
    for native_id, sent, canonical, document in orders:
        order_id = uuid.uuid4()
        demo.orders[f"shopify:{native_id}"] = {"sent_at": STARTED_AT + sent, "event_id": native_id}
        value = {"order": {"channel": "shopify", "native_id": native_id, "order_id": str(order_id)}}
        records.append(_Scanned(value, int((STARTED_AT + canonical) * 1000)))
        body = f'{{"externalId": "esb-order-{order_id.hex}"}}'  # the ERP knows the canonical id only
        documents.append({"body": body, "received_at": STARTED_AT + document})
    return demo, _View(records), documents


def test_the_warm_figures_leave_out_the_orders_sent_during_the_warm_up() -> None:
    demo, view, documents = _run(
        [
            ("100000000001", 1.0, 1.5, 3.0),  # during the warm-up: 0.5 s and 2.0 s
            ("100000000002", WARM_UP_S + 5, WARM_UP_S + 5.1, WARM_UP_S + 5.3),  # 0.1 s and 0.3 s
        ]
    )
    since_ms = int(STARTED_AT * 1000) - 1000

    to_canonical, to_document = latencies(demo, view, documents, since_ms)  # type: ignore[arg-type]
    assert sorted(to_canonical) == pytest.approx([0.1, 0.5])
    assert sorted(to_document) == pytest.approx([0.3, 2.0])
    by_order = latencies_by_order(demo, view, documents, since_ms)  # type: ignore[arg-type]
    warm = tuple(sent_after(demo, found, WARM_UP_S) for found in by_order)
    assert warm == (pytest.approx([0.1]), pytest.approx([0.3]))


def test_the_report_shows_both_p99s() -> None:
    report = DemoReport(
        webhook_to_document=[0.3, 2.0],
        warm_webhook_to_document=[0.3],
        webhook_to_canonical=[0.1, 0.5],
        warm_webhook_to_canonical=[0.1],
        documents=2,
    )
    console = Console(width=200, record=True)
    console.print(render_report(report))
    text = console.export_text()
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "webhook ->" in line}
    assert f"p99 after {WARM_UP_S:g} s" in text
    cells = [cell.strip() for cell in rows["webhook -> ERP (2 documents)"].split("│")[2:6]]
    assert cells == ["2", "2000.0", "2000.0", "300.0"]
    cells = [cell.strip() for cell in rows["webhook -> canonical.orders.v1"].split("│")[2:6]]
    assert cells == ["2", "500.0", "500.0", "100.0"]


def test_the_report_sets_the_channels_customer_records_against_the_golden_ones() -> None:
    console = Console(width=200, record=True)
    console.print(render_report(DemoReport(customer_records=58, golden_customers=40, merges=1)))
    lines = console.export_text().splitlines()
    header = next(i for i, line in enumerate(lines) if "channel records" in line)
    values = [cell.strip() for cell in lines[header + 2].split("│")[1:4]]
    assert values == ["58", "40", "1"]
