"""Coalescing of per-channel availability: a hot SKU emits at most one update per interval.

A slot per (SKU, channel) remembers the value last emitted, when, and the newest value not emitted
yet. Time is the event time of the record being processed (its Kafka timestamp), so a replay makes
the same decisions. Two exceptions to the interval, both against overselling: the first value of a
slot, and a drop to zero (sold out), are emitted at once. Record time can go backwards (a SKU's
locations come from several producers, or a back-fill interleaves older partitions): a record older
than the last emission counts as the interval having passed, so a slot never holds a value for good.

The handler only runs when a record arrives, so a pending value goes out with the next record of the
same SKU after its interval has passed (see README: "Failure modes" for the trailing-update gap and
the runtime timer it needs).
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Slot", "flush", "offer"]


class Slot(msgspec.Struct, frozen=True):
    sent: int
    sent_at_ms: int
    pending: int | None = None

    def to_json(self) -> list[Any]:
        return [self.sent, self.sent_at_ms, self.pending]

    @classmethod
    def from_json(cls, data: list[Any] | None) -> Slot | None:
        if data is None:
            return None
        return cls(data[0], data[1], data[2])


def _due(slot: Slot, now_ms: int, interval_ms: int) -> bool:
    """Whether the interval since the last emission has passed (or record time went backwards)."""
    elapsed = now_ms - slot.sent_at_ms
    return elapsed >= interval_ms or elapsed < 0


def offer(slot: Slot | None, value: int, now_ms: int, interval_ms: int) -> tuple[Slot, int | None]:
    """A new value for the slot: the new slot and the value to emit now (None: hold it)."""
    if slot is None:
        return Slot(value, now_ms), value
    if value == slot.sent:
        return Slot(slot.sent, slot.sent_at_ms), None  # back to what the channel already has
    if value == 0 or _due(slot, now_ms, interval_ms):
        return Slot(value, now_ms), value
    return Slot(slot.sent, slot.sent_at_ms, value), None


def flush(slot: Slot, now_ms: int, interval_ms: int) -> tuple[Slot, int | None]:
    """Emit the held value once its interval has passed."""
    if slot.pending is None or not _due(slot, now_ms, interval_ms):
        return slot, None
    return Slot(slot.pending, now_ms), slot.pending
