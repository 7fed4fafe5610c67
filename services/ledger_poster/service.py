"""The ledger poster's declaration: inputs, outputs, stores and the handler."""

from __future__ import annotations

from bus.serde import AvroCodec, JsonCodec
from bus.service import Input, Output, Service, StoreSpec
from schemas.business_keys import business_keys
from schemas.ledger import FxRate, JournalEntryEvent, PayoutReconciliationEvent
from schemas.loader import schema_text
from schemas.orders import OrderEvent
from schemas.payments import PaymentEvent
from schemas.returns import ReturnEvent
from services.ledger_poster.chart import Chart
from services.ledger_poster.handler import STORES, Topics, make_handler
from services.ledger_poster.queries import ledger_queries
from services.ledger_poster.reconciliation import SettlementMovement
from services.ledger_poster.settings import LedgerPosterSettings

__all__ = ["build_service", "topics_of"]


def _avro(
    model: type[
        OrderEvent | PaymentEvent | ReturnEvent | FxRate | JournalEntryEvent | PayoutReconciliationEvent
    ],
) -> AvroCodec:
    return AvroCodec(model, schema_text(model.avro_name()))


def topics_of(settings: LedgerPosterSettings) -> Topics:
    return Topics(
        orders=settings.orders_topic,
        payments=settings.payments_topic,
        returns=settings.returns_topic,
        rates=settings.rates_topic,
        entries=settings.entries_topic,
        settlement=settings.settlement_topic,
        reconciliations=settings.reconciliations_topic,
    )


def build_service(settings: LedgerPosterSettings, chart: Chart) -> Service:
    topics = topics_of(settings)
    settlement = JsonCodec(SettlementMovement)
    return Service(
        name=settings.service_name,
        inputs=[
            Input(topics.orders, _avro(OrderEvent)),
            Input(topics.payments, _avro(PaymentEvent)),
            Input(topics.returns, _avro(ReturnEvent)),
            Input(topics.rates, _avro(FxRate)),
            Input(topics.settlement, settlement),
        ],
        outputs=[
            Output(topics.entries, _avro(JournalEntryEvent)),
            Output(topics.settlement, settlement),
            Output(topics.reconciliations, _avro(PayoutReconciliationEvent)),
        ],
        stores=[StoreSpec(name) for name in STORES],
        handler=make_handler(chart, topics),
        span_attributes=business_keys,
        event_id=lambda value: (
            str(value.entry_id) if isinstance(value, SettlementMovement) else str(value.metadata.event_id)
        ),
        occurred_at=lambda value: (
            value.occurred_at if isinstance(value, SettlementMovement) else value.metadata.occurred_at
        ),
        queries=ledger_queries(chart),
    )
