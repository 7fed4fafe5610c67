"""The merger as two runtime services: a parallel forwarder and a single matcher.

``customer-merger-forward`` (stateless, every partition of the canonical inputs): customer
records, order snapshots, erasure requests and steward commands are validated, normalised
(:mod:`forward`) and re-keyed onto the ONE-partition match topic.

``customer-merger`` (stateful, the match topic's single partition): blocking, scoring, merges,
survivorship, erasure (:mod:`engine`, :mod:`publish`). Matching needs the whole population; one
partition gives the matcher one global store whose changes commit in the same transaction as its
outputs and its input offset, so exactly-once holds without any cross-instance coordination.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bus.errors import DeadLetterError
from bus.serde import AvroCodec, JsonCodec
from bus.service import Context, Emit, Event, Handler, Input, Outgoing, Output, Service, StoreSpec
from schemas.business_keys import business_keys
from schemas.customers import (
    CrosswalkEntry,
    CustomerEvent,
    CustomerMatchReview,
    CustomerMergeEvent,
    CustomerStewardCommand,
    ErasureRequest,
    GoldenCustomer,
)
from schemas.loader import schema_text
from schemas.orders.models import OrderEvent
from services.customer_merger.books import Books
from services.customer_merger.engine import MatchEngine
from services.customer_merger.forward import from_customer, from_erasure, from_order, from_steward
from services.customer_merger.merge import Ledger
from services.customer_merger.publish import Publisher
from services.customer_merger.queries import customer_queries
from services.customer_merger.records import MatchInput
from services.customer_merger.settings import CustomerMergerSettings

__all__ = [
    "STORE",
    "build_forwarder",
    "build_matcher",
    "forward_handler",
    "match_handler",
    "match_span_attributes",
]

STORE = "merger"


def _avro(model: Any) -> AvroCodec:
    return AvroCodec(model, schema_text(model.avro_name()))


def forward_handler(settings: CustomerMergerSettings) -> Handler:
    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        try:
            return forward(event)
        except ValidationError as exc:
            # Name the fields, never the values: the reason lands in logs and DLQ headers.
            fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
            raise DeadLetterError(
                f"invalid {type(event.value).__name__} after normalisation: {fields}"
            ) from None

    def forward(event: Event[Any]) -> Sequence[Outgoing]:
        value = event.value
        if isinstance(value, CustomerEvent):
            item: MatchInput | None = from_customer(value, settings)
            key = str(value.customer.customer_id)
        elif isinstance(value, OrderEvent):
            item = from_order(value, settings)
            key = item.record.customer_id if item is not None and item.record is not None else ""
        elif isinstance(value, ErasureRequest):
            item, key = from_erasure(value, settings), str(value.request_id)
        elif isinstance(value, CustomerStewardCommand):
            item, key = from_steward(value), str(value.command_id)
        else:
            raise DeadLetterError(f"unexpected {type(value).__name__} on {event.topic}")
        if item is None:
            return []
        return [Emit(settings.match_topic, key, item)]

    return handle


def match_handler(settings: CustomerMergerSettings) -> Handler:
    engine = MatchEngine(settings)
    publisher = Publisher(settings)

    def handle(event: Event[MatchInput], ctx: Context) -> Sequence[Outgoing]:
        books = Books(ctx.state(STORE), STORE)
        effects = engine.apply(event.value, books)
        emits = publisher.emits(effects, Ledger(books, effects), event.value)
        if effects.merges:
            ctx.log.info(
                "golden records merged",
                kinds=[note.kind for note in effects.merges],
                survivors=[note.survivor for note in effects.merges],
            )
        return [*books.changes(), *emits]

    return handle


def match_span_attributes(item: MatchInput) -> dict[str, str]:
    """``business_keys`` of a match-topic record: its source customer, order (``item.order``) and
    steward's golden id; ids only, never personal data."""
    return {**business_keys(item.record), **business_keys(item)}


def build_forwarder(settings: CustomerMergerSettings) -> Service:
    return Service(
        name=f"{settings.service_name}-forward",
        inputs=[
            Input(settings.customers_topic, _avro(CustomerEvent)),
            Input(settings.orders_topic, _avro(OrderEvent)),
            Input(settings.erasure_topic, _avro(ErasureRequest)),
            Input(settings.steward_topic, _avro(CustomerStewardCommand)),
        ],
        outputs=[Output(settings.match_topic, JsonCodec(MatchInput))],
        handler=forward_handler(settings),
        event_id=lambda value: str(value.metadata.event_id),
        occurred_at=lambda value: value.metadata.occurred_at,
        span_attributes=business_keys,
    )


def build_matcher(settings: CustomerMergerSettings) -> Service:
    return Service(
        name=settings.service_name,
        inputs=[Input(settings.match_topic, JsonCodec(MatchInput))],
        outputs=[
            Output(settings.golden_topic, _avro(GoldenCustomer)),  # compacted: Emit(..., None) deletes
            Output(settings.crosswalk_topic, _avro(CrosswalkEntry)),
            Output(settings.merges_topic, _avro(CustomerMergeEvent)),
            Output(settings.reviews_topic, _avro(CustomerMatchReview)),
        ],
        stores=[StoreSpec(STORE)],
        handler=match_handler(settings),
        event_id=lambda value: value.event_id,
        span_attributes=match_span_attributes,
        queries=customer_queries(settings, STORE),
    )
