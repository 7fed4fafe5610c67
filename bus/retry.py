"""Bounded exponential backoff with full jitter for transient handler failures."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed attempt number ``attempt`` (1-based): uniform in [0, min(cap, base*2^(n-1))]."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * (2.0 ** (attempt - 1)))
        delay = float((rng or random).uniform(0, ceiling))
        return delay

    @property
    def budget_s(self) -> float:
        """The longest a record can wait in retries before it is dead-lettered."""
        return sum(
            min(self.max_backoff_s, self.initial_backoff_s * (2.0 ** (n - 1)))
            for n in range(1, self.attempts)
        )
