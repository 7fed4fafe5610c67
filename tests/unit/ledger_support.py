"""In-memory driver and event builders for the ledger poster's unit tests (no broker).

The driver runs the real handler over per-partition dict stores, applies its state writes, routes its
settlement movements back in (as the internal topic would) and collects what it emits.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bus.service import Emit, Event, Outgoing, StateDelete, StatePut
from schemas.common.models import EventMetadata, Money, SourceRef
from schemas.ledger import EntrySide, FxRate, JournalEntryEvent, PayoutReconciliationEvent
from services.ledger_poster.chart import Chart, load_chart
from services.ledger_poster.handler import Topics, make_handler
from services.ledger_poster.reconciliation import SettlementMovement
from services.ledger_poster.settings import DEFAULT_CHART

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
TOPICS = Topics(
    orders="orders",
    payments="payments",
    returns="returns",
    rates="rates",
    entries="entries",
    settlement="settlement",
    reconciliations="reconciliations",
)


def default_chart() -> Chart:
    return load_chart(DEFAULT_CHART)


def meta(
    event_type: str, occurred_at: datetime, system: str, account: str, entity: str, native_id: str
) -> EventMetadata:
    return EventMetadata(
        event_id=uuid.uuid4(),
        event_type=event_type,
        occurred_at=occurred_at,
        ingested_at=occurred_at,
        source=SourceRef(system=system, account=account, entity=entity, native_id=native_id),
    )


def usd(amount: str | Decimal) -> Money:
    return Money.of(amount, "USD")


def fx_rate(base: str, quote: str, rate: str, day: date) -> FxRate:
    at = datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)
    return FxRate(
        metadata=meta("fx.rate", at, "ecb", "eurofxref", "rate", f"{base}{quote}{day}"),
        base_currency=base,
        quote_currency=quote,
        rate=Decimal(rate),
        rate_date=day,
        provider="ecb",
    )


class _Store:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data


@dataclass
class _Ctx:
    stores: dict[str, _Store]
    service: str = "ledger-poster"
    log: Any = field(default_factory=structlog.get_logger)

    def state(self, store: str) -> _Store:
        return self.stores.setdefault(store, _Store())


class Driver:
    """The handler over ``partitions`` partitions, keyed like the real topics."""

    def __init__(self, chart: Chart | None = None, partitions: int = 1) -> None:
        self.chart = chart or default_chart()
        self.handler = make_handler(self.chart, TOPICS)
        self.partitions = [_Ctx({}) for _ in range(partitions)]
        self.entries: list[JournalEntryEvent] = []
        self.reconciliations: list[PayoutReconciliationEvent] = []
        self.outputs: list[Outgoing] = []

    def _partition(self, key: str) -> int:
        return zlib.crc32(key.encode()) % len(self.partitions)

    def feed(self, topic: str, key: str, value: Any) -> list[Outgoing]:
        if isinstance(value, FxRate):  # rates are written to every partition
            return [o for p in range(len(self.partitions)) for o in self._run(topic, key, value, p)]
        return self._run(topic, key, value, self._partition(key))

    def _run(self, topic: str, key: str, value: Any, partition: int) -> list[Outgoing]:
        ctx = self.partitions[partition]
        event = Event(
            value=value,
            key=key.encode(),
            topic=topic,
            partition=partition,
            offset=0,
            timestamp_ms=0,
            headers={},
        )
        outgoing = list(self.handler(event, ctx))
        self.outputs.extend(outgoing)
        for out in outgoing:
            if isinstance(out, StatePut):
                ctx.state(out.store).data[out.key] = _json_roundtrip(out.value)
            elif isinstance(out, StateDelete):
                ctx.state(out.store).data.pop(out.key, None)
        for out in outgoing:
            if isinstance(out, Emit) and out.topic == TOPICS.entries:
                self.entries.append(out.value)
            elif isinstance(out, Emit) and out.topic == TOPICS.reconciliations:
                self.reconciliations.append(out.value)
            elif isinstance(out, Emit) and out.topic == TOPICS.settlement:
                assert isinstance(out.value, SettlementMovement)
                moved = SettlementMovement.model_validate_json(out.value.model_dump_json())
                self._run(TOPICS.settlement, str(out.key), moved, self._partition(str(out.key)))
        return outgoing

    def store_values(self, store: str, key: str) -> list[Any]:
        return [v for ctx in self.partitions if (v := ctx.state(store).get(key)) is not None]


def _json_roundtrip(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def table(entries: Sequence[JournalEntryEvent]) -> list[tuple[str, str, str, str]]:
    """Entries as (account, Dr amount, Cr amount, memo) rows, the way an accountant reads them."""
    rows = []
    for entry in entries:
        for line in entry.lines:
            amount = f"{line.amount.amount:.2f}"
            dr, cr = (amount, "") if line.side is EntrySide.DEBIT else ("", amount)
            rows.append((line.account, dr, cr, line.memo or ""))
    return rows


def functional_table(entries: Sequence[JournalEntryEvent]) -> list[tuple[str, str, str]]:
    rows = []
    for entry in entries:
        for line in entry.lines:
            amount = f"{line.functional_amount.amount:.2f}"
            dr, cr = (amount, "") if line.side is EntrySide.DEBIT else ("", amount)
            rows.append((line.account, dr, cr))
    return rows


def translate(
    system: str, entity: str, relative: str, account: str, shop_currency: str | None = None
) -> list[Any]:
    """A conformance payload through its translator adapter (the canonical events the poster consumes)."""
    from importlib import import_module

    from services.translator.ingress import IngressRecord

    module = import_module(f"services.translator.adapters.{system}")
    record = IngressRecord(
        raw=(CONFORMANCE / relative).read_bytes(),
        system=system,
        entity=entity,
        account=account,
        received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        shop_currency=shop_currency,
    )
    return list(module.ROUTES[(system, entity)](record))
