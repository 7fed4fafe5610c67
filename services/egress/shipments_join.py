"""Shipments of Shopify orders -> Shopify fulfillments: the join that finds a shipment's Shopify order.

A ``ShipmentEvent`` carries only a canonical ``order_id``, in the namespace of whoever sent the
shipment: a 3PL's 945 keys it by W06-02 (our 940's depositor order number, ``document_number`` of
the fulfillment order id), its 856 by PRF01 (the purchase order: our 940's W05-03, the Shopify order
id). Neither tells the channel, the shop or Shopify's line item ids. So the egress service writes
*links* when it learns a Shopify order: one per id a shipment of that order can carry (the Shopify
order's own canonical id, and the ids the configured 3PL's inbound documents will produce), each
with the shop's order id and line items. Links and shipments go to one internal topic keyed by that
id (``shipment_join_topic``), so both meet on one partition and in the ``shipment-links`` store.

A shipment that arrives before its link waits in ``shipment-parked`` (TTL ``shipment_wait``); the
link re-emits it onto the join topic, where it is translated (or dead-lettered) as its own record.
A shipment no link ever claims is not for Shopify (another channel or shop) and expires.
Echo suppression: shipments whose source is Shopify never enter the join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from bus.service import Context, Emit, Outgoing, StateDelete, StatePut
from schemas.fulfillment.models import ShipmentEvent
from schemas.ids import canonical_id
from schemas.orders.models import OrderEvent, RoutedOrderEvent
from services.egress import shopify
from services.egress.document import EgressDocument
from services.egress.keys import document_number
from services.egress.settings import EgressSettings

__all__ = [
    "LINKS_STORE",
    "PARKED_STORE",
    "JoinMessage",
    "OrderLink",
    "ShipmentNotice",
    "enabled",
    "join",
    "links_for_order",
    "links_for_route",
    "notice",
]

LINKS_STORE = "shipment-links"
PARKED_STORE = "shipment-parked"
SHOPIFY = "shopify"


class LinkLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int


class OrderLink(BaseModel):
    """The Shopify order a shipment keyed by this record's key belongs to."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["link"] = "link"
    order_id: UUID
    order_native_id: str
    revision: int = Field(description="routing revision (0 without routing): a higher one replaces")
    lines: list[LinkLine]


class ShipmentNotice(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["shipment"] = "shipment"
    shipment: ShipmentEvent


class JoinMessage(BaseModel):
    """Value of ``shipment_join_topic`` (JSON)."""

    body: Annotated[OrderLink | ShipmentNotice, Field(discriminator="kind")]


def enabled(settings: EgressSettings) -> bool:
    return bool(settings.shopify and settings.shipments_topic and settings.shipment_join_topic)


def _keys(
    settings: EgressSettings, order_id: UUID, native_id: str, fulfillment_orders: Iterable[UUID]
) -> list[str]:
    """Every order id a shipment of this order can carry: ours, and the 3PL's 945 (W06-02) and 856 (PRF01)."""
    keys = [str(order_id)]
    wms = settings.wms
    if wms is not None:
        account = wms.inbound_account or wms.account
        refs = [document_number(fo, 22) for fo in fulfillment_orders] + [native_id]
        keys += [str(canonical_id(wms.inbound_system, account, "order", ref)) for ref in refs]
    return list(dict.fromkeys(keys))


def _emit_links(settings: EgressSettings, link: OrderLink, keys: Sequence[str]) -> list[Outgoing]:
    return [Emit(settings.shipment_join_topic, key, JoinMessage(body=link)) for key in keys]


def links_for_route(route: RoutedOrderEvent, settings: EgressSettings) -> list[Outgoing]:
    """Links of a routed order of the configured shop (lines with their ordered units)."""
    cfg = settings.shopify
    if (
        not enabled(settings)
        or cfg is None
        or route.channel.lower() != SHOPIFY
        or route.account != cfg.account
    ):
        return []
    if not route.order_native_id:
        return []  # nothing a Shopify call could address; the order's own events say why
    lines: dict[str, LinkLine] = {}
    for alloc in route.allocations:
        known = lines.get(alloc.order_line_id)
        units = alloc.quantity + (known.quantity if known else 0)
        lines[alloc.order_line_id] = LinkLine(line_id=alloc.order_line_id, sku=alloc.sku, quantity=units)
        # a line split across locations appears once per location
    fulfillment_orders = dict.fromkeys(
        a.fulfillment_order_id for a in route.allocations if a.fulfillment_order_id
    )
    link = OrderLink(
        order_id=route.order_id,
        order_native_id=route.order_native_id,
        revision=route.revision,
        lines=list(lines.values()),
    )
    return _emit_links(
        settings, link, _keys(settings, route.order_id, route.order_native_id, fulfillment_orders)
    )


def links_for_order(event: OrderEvent, settings: EgressSettings) -> list[Outgoing]:
    """Without routing: links from the order itself (no fulfillment orders, so no 945 keys)."""
    cfg = settings.shopify
    order = event.order
    if (
        not enabled(settings)
        or cfg is None
        or order.channel.lower() != SHOPIFY
        or order.account != cfg.account
    ):
        return []
    lines = [
        LinkLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
        for line in order.lines
        if line.line_id and line.sku
    ]
    link = OrderLink(order_id=order.order_id, order_native_id=order.native_id, revision=0, lines=lines)
    return _emit_links(settings, link, _keys(settings, order.order_id, order.native_id, ()))


def notice(shipment: ShipmentEvent, settings: EgressSettings) -> list[Outgoing]:
    """A shipment into the join, keyed by its order id; Shopify's own shipments are never echoed."""
    if not enabled(settings) or shipment.metadata.source.system.lower() == SHOPIFY:
        return []
    return [
        Emit(
            settings.shipment_join_topic,
            str(shipment.order_id),
            JoinMessage(body=ShipmentNotice(shipment=shipment)),
        )
    ]


def join(
    message: JoinMessage, key: str, ctx: Context, settings: EgressSettings
) -> tuple[list[Outgoing], EgressDocument | None]:
    """One join record: store a link (releasing parked shipments), or translate/park a shipment."""
    body = message.body
    links = ctx.state(LINKS_STORE)
    if isinstance(body, OrderLink):
        stored = links.get(key)
        if stored is not None and int(stored["revision"]) > body.revision:
            return [], None
        out: list[Outgoing] = [StatePut(LINKS_STORE, key, body.model_dump(mode="json"))]
        parked: list[dict[str, Any]] = ctx.state(PARKED_STORE).get(key) or []
        if parked:
            out.append(StateDelete(PARKED_STORE, key))
            out += [
                Emit(settings.shipment_join_topic, key, JoinMessage(body=ShipmentNotice.model_validate(p)))
                for p in parked
            ]
        return out, None
    stored = links.get(key)
    if stored is None:
        parked = ctx.state(PARKED_STORE).get(key) or []
        event_id = str(body.shipment.metadata.event_id)
        if any(p["shipment"]["metadata"]["event_id"] == event_id for p in parked):
            return [], None  # the same shipment re-delivered while waiting
        ctx.log.info("shipment waits for its Shopify order", shipment_id=str(body.shipment.shipment_id))
        return [StatePut(PARKED_STORE, key, [*parked, body.model_dump(mode="json")])], None
    link = OrderLink.model_validate(stored)
    if settings.shopify is None:
        return [], None  # the join topic is only consumed with a Shopify target
    lines = [shopify.OrderLineRef(line.line_id, line.sku, line.quantity) for line in link.lines]
    return [], shopify.fulfillment(body.shipment, settings.shopify, link.order_native_id, lines)
