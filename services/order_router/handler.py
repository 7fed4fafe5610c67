"""The router as a runtime service: one pure handler over four inputs, in three stages.

* ``canonical.orders.v1`` (key: order id) -> the order stage (:mod:`.order_stage`);
* ``canonical.inventory-levels.v1`` (key: stock position) -> re-keyed by SKU onto the by-SKU topic;
* the by-SKU topic (key: SKU) -> the SKU stage (:mod:`.sku_stage`): levels, allocations, releases,
  quotes; it publishes the reservations;
* the by-order topic (key: order id) -> the order stage again, with the SKU stage's answers; it
  publishes fulfillment orders and routed-order events.

All stages run in one process and every record's outputs and state changes commit in one Kafka
transaction with its offset (exactly-once). The stores live on the input partition, so the four
input topics must have the same partition count and be produced with the same partitioner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bus.errors import DeadLetterError
from bus.serde import AvroCodec, JsonCodec
from bus.service import (
    Context,
    Emit,
    Event,
    Handler,
    Input,
    Outgoing,
    Output,
    Service,
    ServiceMetrics,
    StoreSpec,
)
from schemas.base import epoch_millis
from schemas.business_keys import business_keys
from schemas.fulfillment.models import FulfillmentOrderEvent
from schemas.inventory.models import InventoryLevel, ReservationEvent
from schemas.loader import schema_text
from schemas.orders.models import OrderEvent, RoutedOrderEvent
from services.order_router.messages import (
    AllocateCommand,
    AllocatedReply,
    LevelUpdate,
    OrderReply,
    QuoteCommand,
    ReleaseCommand,
    RestockedReply,
    SkuCommand,
)
from services.order_router.order_stage import ORDERS, OrderStage
from services.order_router.rules import RulesFile
from services.order_router.settings import RouterSettings
from services.order_router.sku_stage import HOLDS, REQUESTS, SKUS, SkuStage

__all__ = ["build_service", "make_handler"]


def _level(event: Event[InventoryLevel], by_sku_topic: str) -> list[Outgoing]:
    level = event.value
    update = LevelUpdate(
        sku=level.sku,
        location=level.location,
        on_hand=level.on_hand,
        reserved=level.reserved,
        safety_stock=level.safety_stock or 0,
        revision=level.revision,
        at_ms=epoch_millis(level.as_of),
    )
    return [Emit(by_sku_topic, level.sku, SkuCommand(body=update))]


def make_handler(settings: RouterSettings, rules: RulesFile) -> Handler:
    orders = OrderStage(rules, settings.by_sku_topic, settings.fulfillment_topic, settings.routed_topic)
    skus = SkuStage(settings.by_order_topic, settings.reservations_topic, settings.reservations_by_sku_topic)

    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        topic = event.topic
        if topic == settings.orders_topic:
            order_event: OrderEvent = event.value
            if event.key != str(order_event.order.order_id).encode():
                raise DeadLetterError("record key is not the order's order_id")
            return orders.order(order_event, ctx)
        if topic == settings.levels_topic:
            return _level(event, settings.by_sku_topic)
        if topic == settings.by_sku_topic:
            body = event.value.body
            if isinstance(body, LevelUpdate):
                return skus.level(body, ctx)
            if isinstance(body, AllocateCommand):
                return skus.allocate(body, ctx)
            if isinstance(body, ReleaseCommand):
                return skus.release(body, ctx)
            if isinstance(body, QuoteCommand):
                return skus.quote(body, ctx)
        if topic == settings.by_order_topic:
            reply = event.value.body
            if isinstance(reply, AllocatedReply):
                return orders.allocated(reply, ctx)
            if isinstance(reply, RestockedReply):
                return orders.restocked(reply, ctx)
            return orders.quoted(reply, ctx)
        raise DeadLetterError(f"no route for topic {topic}")

    return handle


def _avro(model: Any) -> AvroCodec:
    return AvroCodec(model, schema_text(model.avro_name()))


# The runtime asks these of every record. Internal records are told apart by type first: a
# pydantic model answers a missing attribute only through a slow ``__getattr__`` miss.
_INTERNAL = (SkuCommand, OrderReply)


def _event_id(value: Any) -> str | None:
    if isinstance(value, _INTERNAL):
        request = getattr(value.body, "request_id", None)  # a level update has none
        return None if request is None else str(request)
    metadata = getattr(value, "metadata", None)
    return None if metadata is None else str(metadata.event_id)


def _occurred_at(value: Any) -> Any:
    if isinstance(value, _INTERNAL):
        return None
    metadata = getattr(value, "metadata", None)
    return None if metadata is None else metadata.occurred_at


def build_service(
    settings: RouterSettings,
    rules: RulesFile,
    handler: Handler | None = None,
    metrics: Sequence[ServiceMetrics] = (),
) -> Service:
    """``handler`` defaults to :func:`make_handler`; ``metrics`` are observed by the runtime."""
    ttl = settings.request_ttl
    return Service(
        name=settings.service_name,
        inputs=[
            Input(settings.orders_topic, _avro(OrderEvent)),
            Input(settings.levels_topic, _avro(InventoryLevel)),
            Input(settings.by_sku_topic, JsonCodec(SkuCommand)),
            Input(settings.by_order_topic, JsonCodec(OrderReply)),
        ],
        outputs=[
            Output(settings.by_sku_topic, JsonCodec(SkuCommand)),
            Output(settings.by_order_topic, JsonCodec(OrderReply)),
            Output(settings.reservations_topic, _avro(ReservationEvent)),
            Output(settings.reservations_by_sku_topic, _avro(ReservationEvent)),
            Output(settings.fulfillment_topic, _avro(FulfillmentOrderEvent)),
            Output(settings.routed_topic, _avro(RoutedOrderEvent)),
        ],
        stores=[StoreSpec(ORDERS), StoreSpec(SKUS), StoreSpec(HOLDS), StoreSpec(REQUESTS, ttl=ttl)],
        handler=handler or make_handler(settings, rules),
        span_attributes=business_keys,
        event_id=_event_id,
        occurred_at=_occurred_at,
        metrics=metrics,
    )
