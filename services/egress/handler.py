"""The egress service: canonical events in, native documents out on ``egress.<system>.<entity>``.

A pure handler over the runtime (exactly-once): each canonical event becomes zero or more documents,
one per configured target, emitted in the same transaction as the input offset. Sales orders join the
order with the router's decision (``orders_join``) unless routing is switched off
(``EGRESS_ROUTED_ORDERS_TOPIC=""``: then every order goes to ``order_targets``). Events that came
*from* a target are not sent back to it (echo suppression). X12 control numbers come from the
``x12-control`` store so a replay reuses the number it was given the first time. Shipments of
Shopify orders become Shopify fulfillments through an internal join topic (``shipments_join``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bus.serde import AvroCodec, BytesCodec, JsonCodec
from bus.service import Context, Emit, Event, Handler, Input, Outgoing, Output, Service, StatePut, StoreSpec
from schemas.base import AvroRecord
from schemas.business_keys import business_keys
from schemas.customers.models import GoldenCustomer
from schemas.fulfillment.models import FulfillmentOrderEvent, ShipmentEvent
from schemas.inventory.models import InventoryLevel, StockMovementEvent
from schemas.ledger.models import JournalEntryEvent
from schemas.loader import schema_text
from schemas.orders.models import OrderEvent, RoutedOrderEvent
from services.egress import business_central, netsuite, sap_idoc, shipments_join, shopify, x12_940
from services.egress.document import EgressDocument
from services.egress.orders_join import apply_order, apply_route
from services.egress.settings import EgressSettings, ErpEntity

__all__ = ["CONTROL_STORE", "ORDERS_STORE", "build_service", "egress_topics", "make_handler", "translate"]

CONTROL_STORE = "x12-control"
ORDERS_STORE = "orders"
_PARTITION_SPAN = 100  # control number = sequence * 100 + input partition: unique across partitions


def egress_topics(settings: EgressSettings) -> list[str]:
    """Every egress topic this configuration can write."""
    topics = []
    if settings.netsuite is not None:
        topics += [
            f"egress.netsuite.{e}"
            for e in ("sales-orders", "customers", "journal-entries", "inventory-adjustments")
        ]
    if settings.business_central is not None:
        topics += [f"egress.business-central.{e}" for e in ("sales-orders", "customers", "journal-lines")]
    if settings.sap is not None:
        topics.append("egress.sap.orders")
    if settings.wms is not None:
        topics.append("egress.wms.shipping-orders")
    if settings.shopify is not None:
        topics += ["egress.shopify.inventory-levels", "egress.shopify.fulfillments"]
    return [settings.topic_prefix + topic for topic in topics]


def translate(
    value: AvroRecord, settings: EgressSettings, control_number: Callable[[str], int] | None = None
) -> list[EgressDocument]:
    """Every target document for one canonical event (pure; ``esb translate --to`` uses it too)."""
    source = getattr(getattr(value, "metadata", None), "source", None)
    origin = source.system.lower() if source is not None else ""
    docs: list[EgressDocument | None] = []
    if isinstance(value, OrderEvent):
        for target in settings.order_targets:
            docs.append(_order_document(value, settings, target, None, None, origin))
    elif isinstance(value, JournalEntryEvent):
        if "netsuite" in settings.journal_targets and settings.netsuite:
            docs.append(netsuite.journal_entry(value, settings.netsuite))
        if "business-central" in settings.journal_targets and settings.business_central:
            docs.extend(business_central.journal_lines(value, settings.business_central))
    elif isinstance(value, GoldenCustomer):
        if "netsuite" in settings.customer_targets and settings.netsuite:
            docs.append(netsuite.customer(value, settings.netsuite))
        if "business-central" in settings.customer_targets and settings.business_central:
            docs.append(business_central.customer(value, settings.business_central))
    elif isinstance(value, StockMovementEvent):
        if settings.netsuite and origin != "netsuite":
            docs.append(netsuite.inventory_adjustment(value, settings.netsuite))
    elif isinstance(value, InventoryLevel):
        if settings.shopify:
            docs.append(shopify.inventory_level(value, settings.shopify))
    elif (
        isinstance(value, FulfillmentOrderEvent)
        and settings.wms
        and value.location in settings.wms.warehouses
    ):
        if control_number is None:
            raise ValueError("a 940 needs a control number source")
        docs.append(x12_940.shipping_order(value, settings.wms, control_number(x12_940.document_key(value))))
    return [doc for doc in docs if doc is not None]


def _order_document(
    event: OrderEvent,
    settings: EgressSettings,
    target: str,
    entity: ErpEntity | None,
    version: str | None,
    origin: str,
) -> EgressDocument | None:
    """The sales order for one ERP; ``entity`` overrides the target's subsidiary/company/sales org."""
    if origin == target:
        return None  # never echo an ERP's own order back to it
    if target == "netsuite" and settings.netsuite:
        cfg = settings.netsuite
        if entity is not None and entity.netsuite_subsidiary_id:
            cfg = cfg.model_copy(update={"subsidiary_id": entity.netsuite_subsidiary_id})
        return netsuite.sales_order(event, cfg, version)
    if target == "business-central" and settings.business_central:
        bc = settings.business_central
        if entity is not None and entity.business_central_company_id:
            bc = bc.model_copy(update={"company_id": entity.business_central_company_id})
        return business_central.sales_order(event, bc, version)
    if target == "sap" and settings.sap:
        sap = settings.sap
        if entity is not None and entity.sap_sales_org:
            sap = sap.model_copy(update={"sales_org": entity.sap_sales_org})
        return sap_idoc.orders05(event, sap, version)
    return None


def _routed(event: Event[Any], ctx: Context, settings: EgressSettings) -> list[Outgoing]:
    """Orders and routing decisions joined per order id in the ``orders`` store."""
    value = event.value
    key = str(value.order.order_id if isinstance(value, OrderEvent) else value.order_id)
    stored = ctx.state(ORDERS_STORE).get(key)
    state: dict[str, Any] | None
    if isinstance(value, OrderEvent):
        state, ready = apply_order(value, stored, settings)
    else:
        state, ready = apply_route(value, stored, settings)
    out: list[Outgoing] = [] if state is None else [StatePut(ORDERS_STORE, key, state)]
    if isinstance(value, RoutedOrderEvent) and state is not None:
        out += shipments_join.links_for_route(value, settings)
    if ready is not None:
        origin = ready.event.metadata.source.system.lower()
        targets = [ready.entity.target] if ready.entity is not None else settings.order_targets
        for target in targets:
            doc = _order_document(ready.event, settings, target, ready.entity, ready.version, origin)
            if doc is not None:
                out.append(_emit(doc, settings))
                _log(ctx, doc)
    return out


def _emit(doc: EgressDocument, settings: EgressSettings) -> Emit:
    return Emit(settings.topic_prefix + doc.topic, doc.key, doc.body, doc.headers())


def _log(ctx: Context, doc: EgressDocument) -> None:
    ctx.log.info(
        "document",
        document_type=doc.document_type,
        external_id=doc.external_id,
        idempotency_key=doc.idempotency_key,
    )


def make_handler(settings: EgressSettings) -> Handler:
    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        value = event.value
        if settings.routed_orders_topic and isinstance(value, OrderEvent | RoutedOrderEvent):
            return _routed(event, ctx, settings)
        if isinstance(value, ShipmentEvent):
            return shipments_join.notice(value, settings)
        if isinstance(value, shipments_join.JoinMessage):
            key = (event.key or b"").decode()
            out, doc = shipments_join.join(value, key, ctx, settings)
            if doc is not None:
                out.append(_emit(doc, settings))
                _log(ctx, doc)
            return out
        links = shipments_join.links_for_order(value, settings) if isinstance(value, OrderEvent) else []
        state: list[Outgoing] = []
        store = ctx.state(CONTROL_STORE)

        def control_number(document_key: str) -> int:
            known = store.get(document_key)
            if known is not None:
                return int(known)
            sequence = int(store.get("sequence", 0)) + 1
            number = sequence * _PARTITION_SPAN + event.partition
            state.extend(
                [StatePut(CONTROL_STORE, "sequence", sequence), StatePut(CONTROL_STORE, document_key, number)]
            )
            return number

        docs = translate(value, settings, control_number)
        emits: list[Outgoing] = [_emit(doc, settings) for doc in docs]
        for doc in docs:
            _log(ctx, doc)
        return [*emits, *state, *links]

    return handle


_INPUTS: list[tuple[str, type[AvroRecord]]] = [
    ("orders_topic", OrderEvent),
    ("routed_orders_topic", RoutedOrderEvent),
    ("fulfillment_orders_topic", FulfillmentOrderEvent),
    ("inventory_levels_topic", InventoryLevel),
    ("stock_movements_topic", StockMovementEvent),
    ("journal_entries_topic", JournalEntryEvent),
    ("golden_customers_topic", GoldenCustomer),
]


def _metadata(value: Any) -> Any:
    """Canonical events carry metadata; join records carry the shipment's (links: none)."""
    if isinstance(value, shipments_join.JoinMessage):
        body = value.body
        return body.shipment.metadata if isinstance(body, shipments_join.ShipmentNotice) else None
    return value.metadata


def _business_keys(value: Any) -> dict[str, str]:
    if isinstance(value, shipments_join.JoinMessage):
        body = value.body
        return business_keys(body.shipment if isinstance(body, shipments_join.ShipmentNotice) else body)
    return business_keys(value)


def _event_id(value: Any) -> str | None:
    metadata = _metadata(value)
    return None if metadata is None else str(metadata.event_id)


def _occurred_at(value: Any) -> Any:
    metadata = _metadata(value)
    return None if metadata is None else metadata.occurred_at


def build_service(settings: EgressSettings) -> Service:
    """Consumes every canonical topic configured (an empty topic name turns that input off)."""
    chosen = [(attr, model) for attr, model in _INPUTS if getattr(settings, attr)]
    inputs = [
        Input(getattr(settings, attr), AvroCodec(model, schema_text(model.avro_name())))
        for attr, model in chosen
    ]
    outputs = [Output(topic, BytesCodec()) for topic in egress_topics(settings)]
    if shipments_join.enabled(settings):
        join = JsonCodec(shipments_join.JoinMessage)
        inputs += [
            Input(settings.shipments_topic, AvroCodec(ShipmentEvent, schema_text(ShipmentEvent.avro_name()))),
            Input(settings.shipment_join_topic, join),
        ]
        outputs.append(Output(settings.shipment_join_topic, join))
    return Service(
        name=settings.service_name,
        inputs=inputs,
        outputs=outputs,
        stores=[
            StoreSpec(CONTROL_STORE),
            StoreSpec(ORDERS_STORE),
            StoreSpec(shipments_join.LINKS_STORE),
            StoreSpec(shipments_join.PARKED_STORE, ttl=settings.shipment_wait),
        ],
        handler=make_handler(settings),
        span_attributes=_business_keys,
        event_id=_event_id,
        occurred_at=_occurred_at,
    )
