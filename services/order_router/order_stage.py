"""The order stage: one partition owns each order; it decides, asks the SKU stage, and publishes.

An order event is matched against the rules (:mod:`.matching`), diffed against what the order
already holds (:mod:`.lifecycle`), and the changes go to the SKU stage as release and allocate
commands (with a quote round first when the fewest-shipments policy spans several SKUs). When every
answer is in, the stage publishes the fulfillment orders that changed and the routed-order event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import msgspec

from bus.errors import DeadLetterError
from bus.service import Context, Emit, Outgoing, StatePut
from schemas.base import epoch_millis
from schemas.fulfillment.models import FulfillmentChange
from schemas.orders.models import OrderChange, OrderEvent, RoutingStatus
from services.order_router.allocation import Demand, allocate
from services.order_router.ids import request_id
from services.order_router.lifecycle import (
    Ask,
    OrderState,
    Phase,
    Release,
    Status,
    cancel,
    diff,
    fulfillment_changes,
    fulfillment_view,
    ranked_locations,
)
from services.order_router.matching import decide, hold_reason
from services.order_router.messages import (
    AllocateCommand,
    AllocatedReply,
    LineAsk,
    LineBackorder,
    LineRelease,
    QuoteCommand,
    QuotedReply,
    ReleaseCommand,
    RestockedReply,
    SkuCommand,
)
from services.order_router.records import FIRST_ROUTED, fulfillment_order, routed_order
from services.order_router.rules import Policy, RulesFile

__all__ = ["ORDERS", "OrderStage"]

ORDERS = "orders"
_SEEN = 32


def _ms(value: Any) -> int:
    return epoch_millis(value)


_FINGERPRINT = "2:"
"""Tag of the current fingerprint format; an untagged one is the legacy format (see :func:`_same`)."""
_SORTED_JSON = msgspec.json.Encoder(order="sorted")


def _body(event: OrderEvent) -> dict[str, Any]:
    return {"change": event.change.value, "order": event.order.model_dump(mode="json")}


def _fingerprint(event: OrderEvent) -> str:
    """Digest of what an order event says (not its id): msgspec's sorted compact JSON, several
    times cheaper than ``json.dumps(sort_keys=True)``, which the untagged legacy format hashed."""
    return _FINGERPRINT + hashlib.sha256(_SORTED_JSON.encode(_body(event))).hexdigest()


def _same(event: OrderEvent, fingerprint: str, known: str) -> bool:
    """Whether the event says what the order last applied. A fingerprint stored before the tagged
    format is compared in its own format, so an unchanged order re-sent after an upgrade is still
    dropped."""
    if fingerprint == known:
        return True
    if not known or known.startswith(_FINGERPRINT):
        return False
    return hashlib.sha256(json.dumps(_body(event), sort_keys=True).encode()).hexdigest() == known


@dataclass(frozen=True, slots=True)
class OrderStage:
    rules: RulesFile
    commands_topic: str
    fulfillment_topic: str
    routed_topic: str

    # -- order events ------------------------------------------------------------------------------
    def order(self, event: OrderEvent, ctx: Context) -> list[Outgoing]:
        key = str(event.order.order_id)
        state = OrderState.from_json(ctx.state(ORDERS).get(key))
        event_id = str(event.metadata.event_id)
        if event_id in state.seen or state.status is Status.CANCELLED:
            return []
        if state.phase is not Phase.IDLE:
            at_ms = _ms(event.metadata.occurred_at)
            if state.queued is None or at_ms >= state.queued["at"]:
                state.queued = {"at": at_ms, "event": event.model_dump(mode="json")}
            return [StatePut(ORDERS, key, state.to_json())]
        out = self._apply(state, event, ctx)
        return [*out, StatePut(ORDERS, key, state.to_json())]

    def _apply(self, state: OrderState, event: OrderEvent, ctx: Context) -> list[Outgoing]:
        order = event.order
        key = str(order.order_id)
        at_ms = _ms(event.metadata.occurred_at)
        state.seen = [*state.seen, str(event.metadata.event_id)][-_SEEN:]
        if at_ms < state.last_at_ms:
            ctx.log.info("stale order event ignored", order_id=key, occurred_at_ms=at_ms)
            return []
        fingerprint = _fingerprint(event)
        if _same(event, fingerprint, state.fingerprint):
            return []
        state.last_at_ms, state.fingerprint = at_ms, fingerprint
        state.order = {
            "id": key,
            "native": order.native_id,
            "channel": order.channel,
            "account": order.account,
            "placed": _ms(order.placed_at),
            "ship_to": None
            if order.shipping_address is None
            else order.shipping_address.model_dump(mode="json"),
            "method": order.shipping_lines[0].code if order.shipping_lines else None,
        }
        state.cause = {
            "id": str(event.metadata.event_id),
            "corr": event.metadata.correlation_id or key,
            "at": at_ms,
        }
        if event.change is OrderChange.CANCELLED or order.cancellation is not None:
            out = self._release(state, cancel(state.lines))
            state.lines = {}
            state.status = Status.CANCELLED
            return out + self._publish(state)
        reason = hold_reason(self.rules, order)
        if reason is not None:
            state.hold = reason
            if state.status is Status.NEW:
                state.status = Status.HELD
            ctx.log.info("order held", order_id=key, reason=reason)
            return self._publish(state)
        state.hold = None
        decision = decide(self.rules, order)
        state.entity, state.rule_ids = decision.erp_entity, list(decision.rule_ids)
        state.lines, releases, asks = diff(state.lines, decision.lines)
        out = self._release(state, releases)
        if not asks:
            return out + self._finish(state, ctx)
        state.sequence += 1
        state.asks = asks
        skus = sorted({ask.sku for ask in asks})
        if len(skus) > 1 and any(ask.policy is Policy.FEWEST_SHIPMENTS for ask in asks):
            return out + self._quote(state, skus)
        return out + self._ask(state, {ask.line_id: ask.locations for ask in asks}, policy_of=None)

    # -- commands to the SKU stage -------------------------------------------------------------------
    def _command_base(self, state: OrderState, sku: str, kind: str) -> dict[str, Any]:
        return {
            "request_id": request_id(state.order["id"], state.sequence, sku, kind),
            "order_id": state.order["id"],
            "sku": sku,
            "at_ms": state.cause["at"],
            "placed_at_ms": state.order["placed"],
            "causation_id": state.cause["id"],
            "correlation_id": state.cause["corr"],
        }

    def _release(self, state: OrderState, releases: list[Release]) -> list[Outgoing]:
        if not releases:
            return []
        state.sequence += 1
        reserved: dict[str, list[LineRelease]] = {}
        waiting: dict[str, list[LineBackorder]] = {}
        for r in releases:
            reserved.setdefault(r.sku, [])
            waiting.setdefault(r.sku, [])
            if r.location is None:  # the SKU stage stops filling these backordered units
                waiting[r.sku].append(LineBackorder(line_id=r.line_id, quantity=r.quantity))
            else:
                reserved[r.sku].append(
                    LineRelease(line_id=r.line_id, location=r.location, quantity=r.quantity)
                )
        out: list[Outgoing] = []
        for sku in sorted(reserved):
            command = ReleaseCommand(
                **self._command_base(state, sku, "release"),
                releases=tuple(reserved[sku]),
                backorders=tuple(waiting[sku]),
            )
            out.append(Emit(self.commands_topic, sku, SkuCommand(body=command)))
        return out

    def _quote(self, state: OrderState, skus: list[str]) -> list[Outgoing]:
        state.phase = Phase.QUOTING
        state.quotes = {}
        out: list[Outgoing] = []
        state.pending = []
        for sku in skus:
            locations = sorted({loc for ask in state.asks if ask.sku == sku for loc in ask.locations})
            command = QuoteCommand(**self._command_base(state, sku, "quote"), locations=tuple(locations))
            state.pending.append(command.request_id)
            out.append(Emit(self.commands_topic, sku, SkuCommand(body=command)))
        return out

    def _ask(
        self, state: OrderState, preference: dict[str, tuple[str, ...]], policy_of: Policy | None
    ) -> list[Outgoing]:
        state.phase = Phase.ALLOCATING
        state.pending = []
        by_sku: dict[str, list[Ask]] = {}
        for ask in state.asks:
            by_sku.setdefault(ask.sku, []).append(ask)
        out: list[Outgoing] = []
        for sku in sorted(by_sku):
            asks = by_sku[sku]
            policy = policy_of or (
                Policy.FEWEST_SHIPMENTS
                if any(a.policy is Policy.FEWEST_SHIPMENTS for a in asks)
                else Policy.RANKED
            )
            lines = tuple(
                LineAsk(line_id=a.line_id, quantity=a.quantity, locations=preference[a.line_id]) for a in asks
            )
            command = AllocateCommand(
                **self._command_base(state, sku, "allocate"), lines=lines, policy=policy
            )
            state.pending.append(command.request_id)
            out.append(Emit(self.commands_topic, sku, SkuCommand(body=command)))
        return out

    # -- answers -----------------------------------------------------------------------------------
    def quoted(self, reply: QuotedReply, ctx: Context) -> list[Outgoing]:
        state = self._state_for(reply.order_id, ctx)
        if state.phase is not Phase.QUOTING or reply.request_id not in state.pending:
            return []  # a repeat, or an answer to a plan that is over
        state.pending.remove(reply.request_id)
        state.quotes[reply.sku] = dict(reply.available)
        if state.pending:
            return [StatePut(ORDERS, reply.order_id, state.to_json())]
        stock = {(sku, loc): units for sku, quote in state.quotes.items() for loc, units in quote.items()}
        demands = [Demand(a.line_id, a.sku, a.quantity, a.locations) for a in state.asks]
        plan = allocate(demands, stock, Policy.FEWEST_SHIPMENTS)
        preference: dict[str, tuple[str, ...]] = {}
        for ask in state.asks:
            chosen = [
                p.location for p in plan.allocations if p.line_id == ask.line_id and p.location is not None
            ]
            preference[ask.line_id] = (*chosen, *(loc for loc in ask.locations if loc not in chosen))
        state.quotes = {}
        out = self._ask(state, preference, policy_of=Policy.RANKED)
        return [*out, StatePut(ORDERS, reply.order_id, state.to_json())]

    def allocated(self, reply: AllocatedReply, ctx: Context) -> list[Outgoing]:
        state = self._state_for(reply.order_id, ctx)
        if state.phase is not Phase.ALLOCATING or reply.request_id not in state.pending:
            return []
        state.pending.remove(reply.request_id)
        for placed in reply.placed:
            line = state.lines.get(placed.line_id)
            if line is None:
                raise DeadLetterError(
                    f"allocation for unknown line {placed.line_id} of order {reply.order_id}"
                )
            if placed.location is None:
                line.backordered += placed.quantity
            else:
                line.at[placed.location] = line.at.get(placed.location, 0) + placed.quantity
        if state.pending:
            return [StatePut(ORDERS, reply.order_id, state.to_json())]
        out = self._finish(state, ctx)
        return [*out, StatePut(ORDERS, reply.order_id, state.to_json())]

    def restocked(self, reply: RestockedReply, ctx: Context) -> list[Outgoing]:
        """Backordered units the SKU stage reserved when stock arrived. The order takes what it still
        waits for (the line may have shrunk, changed SKU or been cancelled since) and gives the rest
        back; when no plan is in flight it publishes the new decision at once."""
        state = self._state_for(reply.order_id, ctx)
        if reply.request_id in state.seen:
            return []  # a repeat (at-least-once)
        state.seen = [*state.seen, reply.request_id][-_SEEN:]
        line = state.lines.get(reply.placed[0].line_id) if reply.placed else None
        if line is not None and (line.sku != reply.sku or state.status is Status.CANCELLED):
            line = None  # the order no longer waits for this SKU on that line
        give_back: list[Release] = []
        taken = False
        for placed in reply.placed:
            if placed.location is None:
                continue
            take = 0 if line is None else min(placed.quantity, line.backordered)
            if line is not None and take:
                line.backordered -= take
                line.at[placed.location] = line.at.get(placed.location, 0) + take
                taken = True
            if placed.quantity > take:
                give_back.append(Release(placed.line_id, reply.sku, placed.location, placed.quantity - take))
        out: list[Outgoing] = []
        if taken and state.phase is Phase.IDLE:
            # The fill is the cause of what follows: its id keys the events, its instant dates them.
            state.cause = {
                "id": reply.request_id,
                "corr": state.cause["corr"],
                "at": max(state.cause["at"], reply.at_ms),
            }
            out += self._publish(state)
        out += self._release(state, give_back)  # after publishing: its cause is the fill too
        return [*out, StatePut(ORDERS, reply.order_id, state.to_json())]

    def _state_for(self, order_id: str, ctx: Context) -> OrderState:
        data = ctx.state(ORDERS).get(order_id)
        if data is None:
            # The order's state lives on the partition of canonical.orders that holds the order: an
            # answer arriving elsewhere means the topics are not co-partitioned (count or partitioner).
            raise DeadLetterError(f"answer for order {order_id} on a partition that does not own it")
        return OrderState.from_json(data)

    # -- publishing --------------------------------------------------------------------------------
    def _finish(self, state: OrderState, ctx: Context) -> list[Outgoing]:
        state.phase, state.pending, state.asks = Phase.IDLE, [], []
        if state.status is not Status.CANCELLED:
            state.status = Status.ROUTED
        out = self._publish(state)
        queued = state.queued
        if queued is not None:
            state.queued = None
            out += self._apply(state, OrderEvent.model_validate(queued["event"]), ctx)
        return out

    def _publish(self, state: OrderState) -> list[Outgoing]:
        out: list[Outgoing] = []
        if state.hold is not None and state.status is not Status.CANCELLED:
            # A held order ships nothing new: units filled meanwhile wait for the hold to clear.
            view = state.fulfillment
        else:
            view = fulfillment_view(state.lines)
        for change in fulfillment_changes(state.fulfillment, view):
            record = fulfillment_order(
                change=FulfillmentChange(change.change),
                order_id=state.order["id"],
                order_native_id=state.order["native"],
                location=change.location,
                lines=change.lines,
                shipping_address=state.order["ship_to"],
                shipping_method=state.order["method"],
                at_ms=state.cause["at"],
                cause=state.cause["id"],
                correlation=state.cause["corr"],
                revision=state.revision + 1,
            )
            out.append(Emit(self.fulfillment_topic, str(record.fulfillment_order_id), record))
        state.fulfillment = view
        status = self._status(state)
        allocations: list[tuple[str, str, str | None, int]] = []
        for line_id, line in state.lines.items():
            for location in ranked_locations(line):
                if line.at[location] > 0:
                    allocations.append((line_id, line.sku, location, line.at[location]))
            if line.backordered:
                allocations.append((line_id, line.sku, None, line.backordered))
        content = json.dumps([status.value, state.entity, state.rule_ids, allocations, state.hold])
        digest = hashlib.sha256(content.encode()).hexdigest()
        if digest == state.published:
            return out
        state.published = digest
        state.revision += 1
        if status is RoutingStatus.CANCELLED:
            event_type = "order.cancelled"
        elif status is RoutingStatus.HELD:
            event_type = "order.held"
        elif not state.routed_once:
            event_type, state.routed_once = FIRST_ROUTED, True
        else:
            event_type = "order.rerouted"
        routed = routed_order(
            event_type=event_type,
            status=status,
            order_id=state.order["id"],
            order_native_id=state.order["native"],
            channel=state.order["channel"],
            account=state.order["account"],
            placed_at_ms=state.order["placed"],
            erp_entity=state.entity,
            rule_ids=state.rule_ids,
            rules_version=self.rules.version,
            revision=state.revision,
            allocations=allocations,
            hold_reason=state.hold,
            at_ms=state.cause["at"],
            cause=state.cause["id"],
            correlation=state.cause["corr"],
        )
        out.append(Emit(self.routed_topic, state.order["id"], routed))
        return out

    @staticmethod
    def _status(state: OrderState) -> RoutingStatus:
        if state.status is Status.CANCELLED:
            return RoutingStatus.CANCELLED
        if state.hold is not None:
            return RoutingStatus.HELD
        if any(line.backordered for line in state.lines.values()):
            return RoutingStatus.BACKORDERED
        return RoutingStatus.ROUTED
