"""What a demo run leaves behind for the report and the checks: its tag, window, SKUs and sent events."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from esb.demo.generator import Generator
from esb.demo.runner import RunSummary

__all__ = ["DemoRecord"]


@dataclass(slots=True)
class DemoRecord:
    tag: str
    seed: int
    started_at: float  # unix seconds
    finished_at: float
    skus_by_volume: list[str]
    orders: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # "channel:native id" -> sent_at, event_id
    people: dict[str, list[list[str]]] = field(default_factory=dict)  # person -> [[system, native id]]
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, generator: Generator, summary: RunSummary, seed: int, started_at: float, finished_at: float
    ) -> DemoRecord:
        volume: Counter[str] = Counter()
        for order in generator.ledger.orders:
            for line in order.lines:
                volume[line.product.sku] += line.quantity
        orders: dict[str, dict[str, Any]] = {}
        for sent in summary.sent:
            order_key = sent.keys.get("order")
            if order_key and sent.kind.endswith("_order"):
                orders[order_key] = {"sent_at": sent.sent_at, "event_id": sent.event_id, "kind": sent.kind}
        return cls(
            tag=generator.tag,
            seed=seed,
            started_at=started_at,
            finished_at=finished_at,
            skus_by_volume=[sku for sku, _ in volume.most_common()],
            orders=orders,
            people={k: [list(v) for v in vs] for k, vs in generator.ledger.customer_records.items()},
            summary={
                "accepted": summary.accepted,
                "by_kind": dict(summary.by_kind),
                "by_status": dict(summary.by_status),
                "skipped": dict(summary.skipped),
                "errors": dict(summary.errors),
                "elapsed_s": summary.elapsed_s,
                "planned_rate": summary.planned_rate,
                "achieved_rate": summary.achieved_rate,
                "http_p50_ms": summary.percentile(0.5),
                "http_p99_ms": summary.percentile(0.99),
            },
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> DemoRecord | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
