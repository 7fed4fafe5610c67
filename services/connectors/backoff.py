"""Backoff for documents a target asked us to retry: exponential with full jitter, capped,
never shorter than the target's ``Retry-After``. Tracked per partition so only the partition
whose document is waiting pauses; the others keep delivering.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["BackoffPolicy", "PartitionBackoff"]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    initial_s: float = 0.5
    max_s: float = 60.0

    def delay(
        self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Delay after failed attempt ``attempt`` (1-based): uniform in [0, min(max, initial*2^(n-1))],
        raised to ``Retry-After`` (which is itself capped at ``max_s``)."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        ceiling = min(self.max_s, self.initial_s * 2.0 ** (attempt - 1))
        jittered = (rng or random).uniform(0, ceiling)
        floor = min(retry_after_s, self.max_s) if retry_after_s is not None else 0.0
        return max(jittered, floor)


@dataclass
class PartitionBackoff:
    """Attempts and resume times per (topic, partition); the runner pauses and resumes by it."""

    policy: BackoffPolicy
    _attempts: dict[tuple[str, int], int] = field(default_factory=dict)
    _resume_at: dict[tuple[str, int], float] = field(default_factory=dict)

    def failed(self, partition: tuple[str, int], now: float, retry_after_s: float | None = None) -> float:
        """Record a retryable failure; returns when the partition may resume (monotonic time)."""
        attempt = self._attempts.get(partition, 0) + 1
        self._attempts[partition] = attempt
        resume = now + self.policy.delay(attempt, retry_after_s)
        self._resume_at[partition] = resume
        return resume

    def succeeded(self, partition: tuple[str, int]) -> None:
        self._attempts.pop(partition, None)
        self._resume_at.pop(partition, None)

    def attempts(self, partition: tuple[str, int]) -> int:
        return self._attempts.get(partition, 0)

    def due(self, now: float) -> list[tuple[str, int]]:
        """Paused partitions whose wait is over."""
        return [p for p, at in self._resume_at.items() if at <= now]

    def paused(self) -> set[tuple[str, int]]:
        return set(self._resume_at)
