"""The end-of-demo report: the books, stock, customers, dead letters, latency and one order's trace.

Each part reads the bus's own outputs (topics, the services' query endpoints, the recording
target, Jaeger) for the demo's window; a part whose source does not exist yet says so.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from esb.demo.record import DemoRecord
from esb.observe.kafka_view import KafkaView

__all__ = [
    "WARM_UP_S",
    "DemoReport",
    "build_report",
    "dlq_reasons",
    "find_trace",
    "latencies",
    "latencies_by_order",
    "percentile",
    "recorded_documents",
    "sent_after",
    "trial_balance",
]

_NATIVE_ID = re.compile(r"(?<!\d)1\d{11}(?!\d)")
# canonical ids, with dashes or as 32 hex digits (NetSuite externalId "esb-order-<hex>")
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_DLQ_CLASS = "esb.dlq.error.class"
_DLQ_MESSAGE = "esb.dlq.error.message"
# The report's warm figures leave out the orders sent in the first seconds of the demo.
WARM_UP_S = 10.0


def percentile(values: Iterable[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def trial_balance(
    view: KafkaView, since_ms: int | None, topic: str = "canonical.journal-entries.v1"
) -> tuple[dict[str, Decimal], int]:
    """Debits minus credits per currency over the journal entries since ``since_ms``, and their count."""
    balance: dict[str, Decimal] = defaultdict(Decimal)
    entries = 0
    for record in view.scan(topic, since_ms=since_ms):
        if not isinstance(record.value, Mapping):
            continue
        entries += 1
        for line in record.value.get("lines", []):
            money = line["amount"]
            sign = 1 if str(line["side"]).upper().startswith("D") else -1
            balance[money["currency"]] += sign * Decimal(money["amount"])
    return dict(balance), entries


def dlq_reasons(view: KafkaView, since_ms: int | None) -> Counter[tuple[str, str, str]]:
    """(dlq topic, error class, message) -> count."""
    reasons: Counter[tuple[str, str, str]] = Counter()
    # dlq.<service> only: other dlq.* topics belong to tests on a shared cluster
    for topic in sorted(t for t in view.topics() if t.startswith("dlq.") and t.count(".") == 1):
        for record in view.scan(topic, since_ms=since_ms, decode=False):
            error = record.headers.get(_DLQ_CLASS, b"?").decode("utf-8", "replace")
            message = record.headers.get(_DLQ_MESSAGE, b"").decode("utf-8", "replace")[:100]
            reasons[(topic, error, message)] += 1
    return reasons


def recorded_documents(target_url: str) -> list[dict[str, Any]]:
    try:
        response = httpx.get(f"{target_url}/_records", timeout=10)
        response.raise_for_status()
    except httpx.HTTPError:
        return []
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def _order_key(value: Mapping[str, Any]) -> str | None:
    order = value.get("order")
    if not isinstance(order, Mapping):
        return None
    return f"{order.get('channel')}:{order.get('native_id')}"


def latencies_by_order(
    demo: DemoRecord, view: KafkaView, documents: list[dict[str, Any]], since_ms: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Per order key: seconds from its webhook to its first canonical order event, and to its first
    ERP document."""
    to_canonical: dict[str, float] = {}
    by_reference = {key.split(":", 1)[1]: key for key in demo.orders}  # native id -> order
    for record in view.scan("canonical.orders.v1", since_ms=since_ms):
        if isinstance(record.value, Mapping):
            key = _order_key(record.value)
            if key in demo.orders and key not in to_canonical:
                to_canonical[key] = record.timestamp_ms / 1000 - demo.orders[key]["sent_at"]
                by_reference[str(record.value["order"]["order_id"]).replace("-", "")] = key
    to_document: dict[str, float] = {}
    for document in documents:
        body = document["body"]
        uuids = {found.replace("-", "") for found in _UUID.findall(body)}
        for reference in set(_NATIVE_ID.findall(body)) | uuids:
            key = by_reference.get(reference)
            if key is not None and key not in to_document:
                to_document[key] = document["received_at"] - demo.orders[key]["sent_at"]
    return to_canonical, to_document


def sent_after(demo: DemoRecord, by_order: dict[str, float], after_s: float) -> list[float]:
    """The values of the orders sent ``after_s`` seconds or more after the demo started."""
    return [v for key, v in by_order.items() if demo.orders[key]["sent_at"] - demo.started_at >= after_s]


def latencies(
    demo: DemoRecord, view: KafkaView, documents: list[dict[str, Any]], since_ms: int
) -> tuple[list[float], list[float]]:
    """Seconds from each order's webhook to its first canonical order event, and to its first ERP document."""
    to_canonical, to_document = latencies_by_order(demo, view, documents, since_ms)
    return list(to_canonical.values()), list(to_document.values())


def find_trace(jaeger_url: str, event_id: str) -> tuple[str | None, set[str]]:
    """The trace of the gateway span that wrote ``event_id``, and the services that appear in it."""
    params = {
        "service": "gateway",
        "tags": json.dumps({"esb.event_id": event_id}),
        "lookback": "2h",
        "limit": "5",
    }
    try:
        found = httpx.get(f"{jaeger_url}/api/traces", params=params, timeout=10).json().get("data") or []
        if not found:
            return None, set()
        trace_id = str(found[0]["traceID"])
        full = httpx.get(f"{jaeger_url}/api/traces/{trace_id}", timeout=10).json().get("data") or []
    except (httpx.HTTPError, ValueError):
        return None, set()
    services = {str(p["serviceName"]) for t in full for p in t.get("processes", {}).values()}
    return trace_id, services


def _atp(urls: tuple[str, ...], sku: str) -> dict[str, Any]:
    """The projector's answer for one SKU: its own query port first, then its ops port."""
    answer: dict[str, Any] = {}
    for url in urls:
        try:
            response = httpx.get(f"{url}/atp/{sku}", timeout=5)
        except httpx.HTTPError as error:
            answer = {"error": type(error).__name__}
            continue
        if response.status_code == 200:
            result: dict[str, Any] = response.json()
            return result
        answer = {"status": response.status_code}
    return answer


@dataclass(slots=True)
class DemoReport:
    balance: dict[str, Decimal] = field(default_factory=dict)
    journal_entries: int = 0
    atp: dict[str, Any] = field(default_factory=dict)  # sku -> the projector's answer (or an error)
    customer_records: int = 0  # source records (every channel's) the merger linked to a golden one
    golden_customers: int = 0
    merges: int = 0
    dlq: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    webhook_to_canonical: list[float] = field(default_factory=list)
    webhook_to_document: list[float] = field(default_factory=list)
    # the same, of the orders sent after the first WARM_UP_S seconds (the JVM's JIT, first
    # connections and registry lookups weigh on a bus that has just started)
    warm_webhook_to_canonical: list[float] = field(default_factory=list)
    warm_webhook_to_document: list[float] = field(default_factory=list)
    documents: int = 0
    trace_url: str | None = None
    trace_services: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def build_report(
    demo: DemoRecord,
    view: KafkaView,
    *,
    jaeger_url: str,
    target_url: str | None,
    projector_urls: tuple[str, ...],
    top_skus: int = 5,
) -> DemoReport:
    since_ms = int(demo.started_at * 1000) - 1000
    report = DemoReport()
    topics = view.topics()
    if "canonical.journal-entries.v1" in topics:
        report.balance, report.journal_entries = trial_balance(view, since_ms)
    if projector_urls:
        for sku in demo.skus_by_volume[:top_skus]:
            report.atp[sku] = _atp(projector_urls, sku)
    else:
        report.notes.append("ATP: no inventory projector running")
    if "canonical.golden-customers.v1" in topics:
        report.golden_customers = len(
            {r.key for r in view.scan("canonical.golden-customers.v1", since_ms=since_ms, decode=False)}
        )
    if "canonical.customer-crosswalk.v1" in topics:
        report.customer_records = len(
            {r.key for r in view.scan("canonical.customer-crosswalk.v1", since_ms=since_ms, decode=False)}
        )
    if "canonical.customer-merges.v1" in topics:
        report.merges = sum(
            1 for _ in view.scan("canonical.customer-merges.v1", since_ms=since_ms, decode=False)
        )
    report.dlq = dlq_reasons(view, since_ms)
    documents = recorded_documents(target_url) if target_url else []
    report.documents = len(documents)
    to_canonical, to_document = latencies_by_order(demo, view, documents, since_ms)  # one scan
    report.webhook_to_canonical = list(to_canonical.values())
    report.webhook_to_document = list(to_document.values())
    report.warm_webhook_to_canonical = sent_after(demo, to_canonical, WARM_UP_S)
    report.warm_webhook_to_document = sent_after(demo, to_document, WARM_UP_S)
    shopify_orders = [o for o in demo.orders.values() if o.get("kind") == "shopify_order"]
    for order in shopify_orders[:10]:
        trace_id, services = find_trace(jaeger_url, order["event_id"])
        if trace_id is not None and len(services) >= len(report.trace_services):
            report.trace_url = f"{jaeger_url}/trace/{trace_id}"
            report.trace_services = services
    return report
