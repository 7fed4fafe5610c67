"""The pure fold: one stock position (SKU x location) and its reservations, event by event.

No Kafka, no clock, no I/O: the handler feeds events in, stores what comes out and turns it into
records. Every rule that decides the number a channel may promise lives here.

Ordering and duplicate rules (the final level is a function of the *set* of events, whatever the
order of arrival and however often each arrives, within the reorder window):

1. A delta movement (receipt, adjustment, transfers, shipment, return restock) is applied once per
   ``movement_id``; the handler drops repeats with a TTL'd store of seen ids before calling the fold.
2. An absolute count is an observation of on-hand *as of* its ``occurred_at``. Counts are ordered by
   ``(occurred_at, source_sequence, movement_id)``; an older (or the same) count never overwrites a
   newer one, it is ignored.
3. A delta whose ``occurred_at`` is at or before the newest applied count is *absorbed*: the count
   already includes it, so it does not change on-hand, whether it arrives before or after the count.
4. A delta after the newest count is applied on top of it, even when it arrived before the count:
   the fold keeps the deltas it has seen after its base, summed per instant ("buckets"), and re-bases
   on a newer count as ``count + sum(buckets after the count)``.
5. Buckets older than ``reorder_window_ms`` before the newest movement, or beyond
   ``reorder_max_buckets``, are settled into the base. A delta arriving later than that for an
   instant after the newest count is still added (it is not a duplicate: rule 1 is separate); a
   count older than the settled horizon cannot be re-based and is ignored with a STALE_COUNT alert.
6. A reservation (per ``reservation_id``) holds the quantity of its newest RESERVE (by occurred-at,
   then event id) minus every distinct RELEASE and COMMIT; its outstanding units never go below 0
   and the position's ``reserved`` is the sum of outstanding units. Repeats (same event id) are
   ignored. COMMIT means the reserved units left with a shipment: the on-hand decrement comes from
   the SHIPMENT movement, never from the COMMIT.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

__all__ = [
    "AlertKind",
    "AlertSpec",
    "Count",
    "Delta",
    "FoldLimits",
    "Level",
    "Position",
    "Reservation",
    "ReservationChange",
    "ReservationOp",
    "apply_count",
    "apply_delta",
    "apply_reservation",
    "level_of",
    "settle",
]


class AlertKind(StrEnum):
    OVERSELL = "OVERSELL"
    COUNT_DRIFT = "COUNT_DRIFT"
    STALE_COUNT = "STALE_COUNT"


class FoldLimits(msgspec.Struct, frozen=True):
    reorder_window_ms: int = 24 * 3600 * 1000
    reorder_max_buckets: int = 128
    drift_threshold: int = 0


class Delta(msgspec.Struct, frozen=True):
    movement_id: str
    at_ms: int
    quantity: int


class Count(msgspec.Struct, frozen=True):
    movement_id: str
    at_ms: int
    sequence: int  # -1 when the source gives none
    quantity: int

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.at_ms, self.sequence, self.movement_id)


class AlertSpec(msgspec.Struct, frozen=True):
    kind: AlertKind
    shortfall: int | None = None
    counted: int | None = None
    expected: int | None = None
    drift: int | None = None
    threshold: int | None = None


class Position(msgspec.Struct, frozen=True):
    """State of one stock position. ``on_hand == base_qty + sum(bucket_qty)``.

    The buckets are two parallel tuples, ascending instants and their summed quantities: stored
    as two flat JSON arrays (inside the position's array, :meth:`to_json`), which the checkpoint
    writes and a first read parses about a third faster than one array of pairs, and which the
    overlay hands back as they are.
    """

    on_hand: int = 0
    reserved: int = 0
    base_qty: int = 0
    count_key: tuple[int, int, str] | None = None
    settled_through: int | None = None
    bucket_at: tuple[int, ...] = ()
    bucket_qty: tuple[int, ...] = ()
    as_of_ms: int = 0
    moved_ms: int = 0
    revision: int = 0
    touched: bool = False

    @property
    def count_at(self) -> int | None:
        return None if self.count_key is None else self.count_key[0]

    @property
    def buckets(self) -> tuple[tuple[int, int], ...]:
        """(instant, quantity) pairs, oldest first."""
        return tuple(zip(self.bucket_at, self.bucket_qty, strict=True))

    def to_json(self, revision: int | None = None) -> list[Any]:
        """One JSON array, the fields in declaration order (a field added later goes at the end);
        ``revision`` instead of the position's own when given (the handler's revision bump).

        An array, not an object: a checkpoint writes it and a first read parses and builds it
        about a third faster. The tuples themselves (JSON writes tuples as arrays): from_json of
        the overlay's value takes them back as they are, without a copy.
        """
        return [
            self.on_hand,
            self.reserved,
            self.base_qty,
            self.count_key,
            self.settled_through,
            self.bucket_at,
            self.bucket_qty,
            self.as_of_ms,
            self.moved_ms,
            self.revision if revision is None else revision,
            self.touched,
        ]

    @classmethod
    def from_json(cls, data: list[Any] | dict[str, Any] | None) -> Position:
        if data is None:
            return cls()
        if not isinstance(data, list):
            return cls._from_object(data)
        if type(data[5]) is tuple:  # JSON decoding never makes tuples: to_json's own, as it was
            return cls(*data)
        count_key = data[3]
        return cls(
            data[0],
            data[1],
            data[2],
            None if count_key is None else (count_key[0], count_key[1], count_key[2]),
            data[4],
            tuple(data[5]),
            tuple(data[6]),
            data[7],
            data[8],
            data[9],
            data[10],
        )

    @classmethod
    def _from_object(cls, data: dict[str, Any]) -> Position:
        """The forms written before the array: a JSON object, with the buckets as two flat arrays
        (``"ka"``, ``"kq"``) or, before those, as pairs (``"bk"``)."""
        count_key = data["ck"]
        at: tuple[int, ...]
        qty: tuple[int, ...]
        if "ka" in data:
            at, qty = tuple(data["ka"]), tuple(data["kq"])
        else:
            pairs = data["bk"]
            at, qty = tuple(pair[0] for pair in pairs), tuple(pair[1] for pair in pairs)
        return cls(
            on_hand=data["oh"],
            reserved=data["rs"],
            base_qty=data["bq"],
            count_key=None if count_key is None else (count_key[0], count_key[1], count_key[2]),
            settled_through=data["st"],
            bucket_at=at,
            bucket_qty=qty,
            as_of_ms=data["ao"],
            moved_ms=data["mm"],
            revision=data["rv"],
            touched=data["t"],
        )

    def revised(self, revision: int) -> Position:
        """This position with another revision."""
        return Position(
            self.on_hand,
            self.reserved,
            self.base_qty,
            self.count_key,
            self.settled_through,
            self.bucket_at,
            self.bucket_qty,
            self.as_of_ms,
            self.moved_ms,
            revision,
            self.touched,
        )


class Level(msgspec.Struct, frozen=True):
    """What a position publishes."""

    on_hand: int
    reserved: int
    safety_stock: int
    as_of_ms: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def promisable(self) -> int:
        """Signed ATP: negative means more is promised than may be."""
        return self.on_hand - self.reserved - self.safety_stock

    @property
    def available_to_promise(self) -> int:
        return max(self.promisable, 0)


def level_of(position: Position, safety_stock: int) -> Level:
    return Level(position.on_hand, position.reserved, safety_stock, position.as_of_ms)


def apply_delta(position: Position, delta: Delta, limits: FoldLimits) -> Position:
    """Rules 3-5 for a delta already known not to be a repeat."""
    as_of = max(position.as_of_ms, delta.at_ms)
    moved = max(position.moved_ms, delta.at_ms)
    count_at = position.count_at
    if count_at is not None and delta.at_ms <= count_at:
        return replace(position, as_of_ms=as_of, moved_ms=moved, touched=True)  # absorbed by the count
    if position.settled_through is not None and delta.at_ms <= position.settled_through:
        return replace(
            position,
            on_hand=position.on_hand + delta.quantity,
            base_qty=position.base_qty + delta.quantity,
            as_of_ms=as_of,
            moved_ms=moved,
            touched=True,
        )
    at = list(position.bucket_at)
    qty = list(position.bucket_qty)
    index = bisect_left(at, delta.at_ms)
    if index < len(at) and at[index] == delta.at_ms:
        qty[index] += delta.quantity
    else:
        at.insert(index, delta.at_ms)
        qty.insert(index, delta.quantity)
    # The common case, settled and built at once.
    base_qty, settled_through = position.base_qty, position.settled_through
    cut = _settle_cut(at, moved, limits)
    if cut:
        base_qty += sum(qty[:cut])
        last = at[cut - 1]
        settled_through = last if settled_through is None else max(settled_through, last)
        del at[:cut], qty[:cut]
    return Position(
        on_hand=position.on_hand + delta.quantity,
        reserved=position.reserved,
        base_qty=base_qty,
        count_key=position.count_key,
        settled_through=settled_through,
        bucket_at=tuple(at),
        bucket_qty=tuple(qty),
        as_of_ms=as_of,
        moved_ms=moved,
        revision=position.revision,
        touched=True,
    )


def _settle_cut(bucket_at: Sequence[int], moved_ms: int, limits: FoldLimits) -> int:
    """How many of the oldest buckets rule 5 settles."""
    horizon = moved_ms - limits.reorder_window_ms
    cut = 0
    while cut < len(bucket_at) and (
        len(bucket_at) - cut > limits.reorder_max_buckets or bucket_at[cut] < horizon
    ):
        cut += 1
    return cut


def settle(position: Position, limits: FoldLimits) -> Position:
    """Rule 5: fold the oldest buckets into the base beyond the reorder window or bucket limit.

    The window is measured from the newest *movement*, never from reservations or wall time.
    """
    cut = _settle_cut(position.bucket_at, position.moved_ms, limits)
    if cut == 0:
        return position
    last = position.bucket_at[cut - 1]
    return replace(
        position,
        base_qty=position.base_qty + sum(position.bucket_qty[:cut]),
        settled_through=last if position.settled_through is None else max(position.settled_through, last),
        bucket_at=position.bucket_at[cut:],
        bucket_qty=position.bucket_qty[cut:],
    )


def apply_count(position: Position, count: Count, limits: FoldLimits) -> tuple[Position, list[AlertSpec]]:
    """Rules 2, 4 and 5 for an absolute count."""
    if position.count_key is not None and count.key <= position.count_key:
        return position, []  # an older or repeated count never overwrites a newer one
    if position.settled_through is not None and count.at_ms < position.settled_through:
        return position, [AlertSpec(AlertKind.STALE_COUNT, counted=count.quantity)]
    split = bisect_right(position.bucket_at, count.at_ms)  # buckets at or before the count
    expected = position.base_qty + sum(position.bucket_qty[:split])
    later_qty = position.bucket_qty[split:]
    alerts: list[AlertSpec] = []
    drift = count.quantity - expected
    if position.touched and abs(drift) > limits.drift_threshold:
        alerts.append(
            AlertSpec(
                AlertKind.COUNT_DRIFT,
                counted=count.quantity,
                expected=expected,
                drift=drift,
                threshold=limits.drift_threshold,
            )
        )
    rebased = replace(
        position,
        on_hand=count.quantity + sum(later_qty),
        base_qty=count.quantity,
        count_key=count.key,
        settled_through=None,
        bucket_at=position.bucket_at[split:],
        bucket_qty=later_qty,
        as_of_ms=max(position.as_of_ms, count.at_ms),
        moved_ms=max(position.moved_ms, count.at_ms),
        touched=True,
    )
    return rebased, alerts


class ReservationOp(StrEnum):
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    COMMIT = "COMMIT"


class ReservationChange(msgspec.Struct, frozen=True):
    event_id: str
    op: ReservationOp
    quantity: int
    at_ms: int


class Reservation(msgspec.Struct, frozen=True):
    quantity: int = 0
    reserve_key: tuple[int, str] | None = None
    released: int = 0
    committed: int = 0
    events: tuple[str, ...] = ()

    @property
    def outstanding(self) -> int:
        return max(self.quantity - self.released - self.committed, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "q": self.quantity,
            "rk": None if self.reserve_key is None else list(self.reserve_key),
            "rl": self.released,
            "cm": self.committed,
            "ev": list(self.events),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Reservation:
        if data is None:
            return cls()
        key = data["rk"]
        return cls(
            quantity=data["q"],
            reserve_key=None if key is None else (key[0], key[1]),
            released=data["rl"],
            committed=data["cm"],
            events=tuple(data["ev"]),
        )


def apply_reservation(reservation: Reservation, change: ReservationChange) -> Reservation | None:
    """Rule 6; None when the change was applied before."""
    if change.event_id in reservation.events:
        return None
    events = (*reservation.events, change.event_id)
    if change.op is ReservationOp.RESERVE:
        key = (change.at_ms, change.event_id)
        if reservation.reserve_key is not None and key < reservation.reserve_key:
            return replace(reservation, events=events)
        return replace(reservation, quantity=change.quantity, reserve_key=key, events=events)
    if change.op is ReservationOp.RELEASE:
        return replace(reservation, released=reservation.released + change.quantity, events=events)
    return replace(reservation, committed=reservation.committed + change.quantity, events=events)
