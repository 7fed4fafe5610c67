"""The golden record: field survivorship over the members, lineage, and the Customer 360 summary.

Everything here is a pure function of the member set (records and order facts), never of the
order in which they arrived: ties are broken by source priority, recency and finally the source
record id, so a replay from scratch produces the same golden values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from schemas.common.models import Address, Money, SourceRef
from schemas.customers import CustomerSummary
from services.customer_merger.records import OrderFact, SourceRecord
from services.customer_merger.settings import GOLDEN_FIELDS, CustomerMergerSettings, SurvivorshipRule

__all__ = ["GoldenValues", "content_hash", "summarize", "survive"]

GoldenValues = dict[str, Any]


def _value(record: SourceRecord, name: str) -> Any:
    if name == "addresses":
        return record.addresses or None
    value = getattr(record, name)
    return value or None


def _completeness(value: Any) -> int:
    if isinstance(value, list):
        return sum(
            1
            + sum(bool(part) for part in (a.city, a.postal_code, a.country_code, a.region))
            + len(a.street_lines)
            for a in value
            if isinstance(a, Address)
        )
    return len(str(value))


def _ranking(
    rule: SurvivorshipRule, name: str, priority: Callable[[SourceRecord], int]
) -> Callable[[SourceRecord], tuple[Any, ...]]:
    """Sort key of a member for one field; the source record id breaks every remaining tie."""
    if rule is SurvivorshipRule.SOURCE_PRIORITY:
        return lambda r: (priority(r), r.updated_at_ms, not r.is_guest, r.customer_id)
    if rule is SurvivorshipRule.MOST_COMPLETE:
        return lambda r: (_completeness(_value(r, name)), priority(r), r.updated_at_ms, r.customer_id)
    return lambda r: (r.updated_at_ms, priority(r), not r.is_guest, r.customer_id)


def survive(
    members: Sequence[SourceRecord], settings: CustomerMergerSettings
) -> tuple[GoldenValues, dict[str, str]]:
    """The golden field values and, per field, the source record id that won it."""
    values: GoldenValues = {}
    lineage: dict[str, str] = {}

    def priority(record: SourceRecord) -> int:
        return settings.source_priority.get(record.source.system.lower(), 0)

    for name in GOLDEN_FIELDS:
        present = [record for record in members if _value(record, name) is not None]
        if not present:
            continue
        winner = max(present, key=_ranking(settings.rule_for(name), name, priority))
        values[name] = _value(winner, name)
        lineage[name] = winner.customer_id
    values["members"] = sorted(
        (record.source for record in members), key=lambda s: (s.system, s.account, s.entity, s.native_id)
    )
    return values, lineage


def summarize(facts: Mapping[str, Mapping[str, Any]]) -> CustomerSummary | None:
    """Order count, net lifetime value per currency, first/last order, channels; None without orders."""
    orders = [OrderFact.model_validate(fact) for fact in facts.values()]
    if not orders:
        return None
    live = [order for order in orders if not order.cancelled]
    totals: dict[str, Decimal] = {}
    for order in live:
        totals[order.currency] = totals.get(order.currency, Decimal(0)) + Decimal(order.net_total)
    placed = sorted(order.placed_at_ms for order in live)
    return CustomerSummary(
        order_count=len(live),
        lifetime_value=[Money.of(totals[currency], currency) for currency in sorted(totals)],
        first_order_at=datetime.fromtimestamp(placed[0] / 1000, UTC) if placed else None,
        last_order_at=datetime.fromtimestamp(placed[-1] / 1000, UTC) if placed else None,
        channels=sorted({order.channel for order in live}),
    )


def content_hash(values: GoldenValues, lineage: Mapping[str, str], summary: CustomerSummary | None) -> str:
    """A digest of what a golden record says (not its id or revision): unchanged content, no event."""

    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, Address | SourceRef):
            return value.model_dump(mode="json")
        return value

    body = {
        "values": {name: plain(value) for name, value in sorted(values.items())},
        "lineage": dict(sorted(lineage.items())),
        "summary": summary.model_dump(mode="json") if summary is not None else None,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
