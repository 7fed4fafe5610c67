"""Sales orders need two co-partitioned inputs (both keyed by ``order_id``): the whole order
(``canonical.orders.v1``) and the router's decision (``canonical.routed-orders.v1``: ERP entity and the
location of each line). The latest of each is kept in the ``orders`` store; whenever either changes
and both are known, the ERP document is (re)built for the decided entity (``EGRESS_ERP_ENTITIES``;
with no map configured the decision only gates and places lines, and ``order_targets`` apply).

The document version is ``<order event id>/r<routing revision>``: deterministic under replay, new
whenever the order or the decision changes. Older routing revisions than the stored one are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.orders.models import OrderEvent, RoutedOrderEvent, RoutingStatus
from services.egress.errors import UntranslatableError
from services.egress.settings import EgressSettings, ErpEntity

__all__ = ["RoutedOrder", "apply_order", "apply_route", "entity_for"]


@dataclass(frozen=True, slots=True)
class RoutedOrder:
    """An order ready for an ERP: the order with line locations applied, the entity, the version."""

    event: OrderEvent
    entity: ErpEntity | None  # None: no entity map configured, the order goes to ``order_targets``
    version: str


def entity_for(settings: EgressSettings, name: str | None) -> ErpEntity | None:
    """The configured entity; an entity the map does not know is a configuration error (DLQ)."""
    if not settings.erp_entities:
        return None
    entity = settings.erp_entities.get(name or "")
    if entity is None:
        raise UntranslatableError("sales order", "erp_entity", f"no EGRESS_ERP_ENTITIES entry for {name!r}")
    return entity


def _ready(
    order: dict[str, Any] | None, route: dict[str, Any] | None, settings: EgressSettings
) -> RoutedOrder | None:
    if order is None or route is None or route["status"] == RoutingStatus.HELD.value:
        return None
    entity = entity_for(settings, route["erp_entity"])
    event = OrderEvent.model_validate(order)
    locations: dict[str, str] = route["locations"]
    lines = [
        line.model_copy(
            update={"fulfillment_location": locations.get(line.line_id, line.fulfillment_location)}
        )
        for line in event.order.lines
    ]
    event = event.model_copy(update={"order": event.order.model_copy(update={"lines": lines})})
    return RoutedOrder(event, entity, f"{event.metadata.event_id}/r{route['revision']}")


def apply_order(
    event: OrderEvent, stored: dict[str, Any] | None, settings: EgressSettings
) -> tuple[dict[str, Any], RoutedOrder | None]:
    """New state for the order id and what to send now (None: wait for the router)."""
    state = dict(stored or {})
    state["order"] = event.model_dump(mode="json")
    return state, _ready(state["order"], state.get("route"), settings)


def apply_route(
    event: RoutedOrderEvent, stored: dict[str, Any] | None, settings: EgressSettings
) -> tuple[dict[str, Any] | None, RoutedOrder | None]:
    """New state (None: a stale revision, nothing changes) and what to send now."""
    state = dict(stored or {})
    known = state.get("route")
    if known is not None and known["revision"] >= event.revision:
        return None, None
    state["route"] = {
        "status": event.status.value,
        "erp_entity": event.erp_entity,
        "revision": event.revision,
        "locations": {a.order_line_id: a.location for a in event.allocations if a.location is not None},
    }
    return state, _ready(state.get("order"), state["route"], settings)
