"""Per-account limits: a token bucket for the request rate and a semaphore for requests in flight.

The clock is injected so the bucket is tested without sleeping; :meth:`TokenBucket.reserve` returns
how long the caller must wait for its token (0 when one is available) and never blocks itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["AccountLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._tokens = float(self.burst)
        self._at = self.clock()

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (tokens may go negative)."""
        with self._lock:
            now = self.clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate_per_s)
            self._at = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate_per_s

    def slow_down(self, seconds: float) -> None:
        """After a 429 for the whole account: no token for ``seconds``."""
        with self._lock:
            self._tokens = min(self._tokens, -seconds * self.rate_per_s)


class AccountLimiter:
    """Concurrency + rate for one account; ``slot()`` blocks the calling worker, never the consumer loop."""

    def __init__(
        self,
        max_concurrency: int,
        bucket: TokenBucket,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.bucket = bucket
        self._sleep = sleep
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._slots:
            wait = self.bucket.reserve()
            if wait > 0:
                self._sleep(wait)
            with self._lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight -= 1
