"""Recently seen provider event ids: a bounded, in-memory TTL cache.

It answers re-deliveries the gateway can recognise without a second write. It is best effort by
design (per process, lost on restart); the translator's runtime dedupe by the event-id header is
the guarantee.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["SeenEvents"]


class SeenEvents:
    """Event ids remembered for ``ttl_s`` seconds, at most ``max_entries`` of them (oldest evicted)."""

    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def _evict_expired(self, now: float) -> None:
        # Insertion order is expiry order (the TTL is fixed), so expired ids sit at the front.
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now:
                break
            del self._expiry[oldest]

    def seen(self, event_id: str) -> bool:
        now = self._clock()
        self._evict_expired(now)
        return event_id in self._expiry

    def remember(self, event_id: str) -> None:
        now = self._clock()
        self._evict_expired(now)
        self._expiry.pop(event_id, None)
        self._expiry[event_id] = now + self._ttl_s
        while len(self._expiry) > self._max_entries:
            self._expiry.popitem(last=False)
