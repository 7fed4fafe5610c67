"""Sinks: at-least-once side effects outside Kafka (HTTP calls to ERPs, WMSs, storefronts).

A service that *delivers* records rather than transforming them implements :class:`Sink`:

```python
class Http(Sink):
    def key(self, record: Record) -> str:  # the concurrency lane, e.g. the target account
        return record_headers(record)["esb.egress.account"]

    def deliver(self, record: Record) -> SinkOutcome:  # blocking I/O, runs in a worker thread
        ...
        return Done()  # or RetryAt(time.monotonic() + 30, account_wide=False), Reject("HTTP 400: ...")
```

and runs with ``run_sink(SinkService(name, inputs, sink), BusSettings())``. The runner
(:mod:`bus.sink_runner`) keeps one record in flight per partition (per-entity order), at most
``max_in_flight_per_key`` per lane and ``workers`` in all; ``RetryAt`` pauses that partition (or
every partition whose next record is in the same lane, with ``account_wide``), seeks it back to the
record and resumes it at the deadline while the others keep flowing; ``Reject`` dead-letters the
record (``dlq.<name>``, the runtime's DLQ headers, stage ``deliver``) before its offset moves. An
exception from ``deliver`` maps like a handler's (:func:`bus.errors.outcome_of`): retryable ones
back off (``ESB_RETRY_*``) and are dead-lettered after ``ESB_RETRY_ATTEMPTS``; others are
dead-lettered; fatal ones crash the process. Offsets are committed per partition up to the last
completed record, on ``ESB_COMMIT_INTERVAL_MS`` and on revocation (after the revoked partitions'
in-flight records finished). A crash re-delivers what was not committed: the side effect must be
idempotent (a deterministic idempotency key).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

from bus.processor import Record

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from bus.config import BusSettings

__all__ = ["Done", "Reject", "RetryAt", "Sink", "SinkOutcome", "SinkService", "run_sink"]


@dataclass(frozen=True, slots=True)
class Done:
    """Delivered (or found delivered): the offset may move past the record."""


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Not now: try the same record again at ``deadline`` (``time.monotonic()`` seconds).

    ``account_wide``: the lane itself is throttled or unauthorised, so every partition whose next
    record is in this lane waits too.
    """

    deadline: float
    account_wide: bool = False


@dataclass(frozen=True, slots=True)
class Reject:
    """Never deliverable (validation error): dead-lettered with ``reason``, then the offset moves."""

    reason: str


SinkOutcome: TypeAlias = Done | RetryAt | Reject


class Sink(Protocol):
    def key(self, record: Record) -> str:
        """The record's concurrency lane (e.g. the target account)."""
        ...

    def deliver(self, record: Record) -> SinkOutcome:
        """Perform the side effect; blocking I/O is fine (it runs in a worker thread)."""
        ...


@dataclass(frozen=True, slots=True)
class SinkService:
    name: str
    inputs: Sequence[str]
    sink: Sink
    max_in_flight_per_key: int = 4
    workers: int = 8

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError("a sink consumes at least one topic")
        if self.max_in_flight_per_key < 1 or self.workers < 1:
            raise ValueError("max_in_flight_per_key and workers are at least 1")

    @property
    def dlq_topic(self) -> str:
        return f"dlq.{self.name}"


def run_sink(
    service: SinkService,
    settings: BusSettings,
    stop: threading.Event | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Run ``service`` until SIGTERM/SIGINT (main thread) or ``stop``; at-least-once by nature.

    ``tracer_provider``: pass the one the sink's own clients report to, so their spans (an
    instrumented HTTP client's) and the runner's ``process`` spans form one trace; by default the
    runner builds one from ``settings.telemetry``."""
    from bus.sink_runtime import run_sink as run  # the wiring imports this module's types

    run(service, settings, stop, tracer_provider)
