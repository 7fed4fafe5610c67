"""Post the generator's events to the gateway at a fixed rate, signed like their providers.

Loopback only: the gateway URL must point at this machine. The run is bounded by a duration or an
event count; the summary counts what was accepted, refused and skipped (ingress topic missing).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx
from confluent_kafka.admin import AdminClient

from esb.demo.generator import DemoEvent
from esb.demo.pacing import Schedule
from esb.demo.secrets import DemoSecrets
from esb.demo.signing import sign

__all__ = ["RunSummary", "Sent", "existing_topics", "run_events"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class Sent:
    """One accepted event: when it left (wall clock, seconds) and its business keys."""

    kind: str
    event_id: str
    sent_at: float
    keys: Mapping[str, str]


@dataclass(slots=True)
class RunSummary:
    planned_rate: float
    elapsed_s: float = 0.0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # ingress topic -> events not sent
    http_ms: list[float] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return sum(count for status, count in self.by_status.items() if status.startswith("2"))

    @property
    def achieved_rate(self) -> float:
        total = sum(self.by_status.values())
        return total / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, q: float) -> float:
        if not self.http_ms:
            return 0.0
        ordered = sorted(self.http_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def existing_topics(kafka_config: Mapping[str, str]) -> set[str]:
    admin = AdminClient(dict(kafka_config))
    return set(admin.list_topics(timeout=10).topics)


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in _LOOPBACK:
        raise ValueError(f"the demo only posts to this machine; {url} is not a loopback address")


async def _post_all(
    events: Iterator[DemoEvent],
    *,
    gateway_url: str,
    secrets: DemoSecrets,
    schedule: Schedule,
    limit: int | None,
    deadline: float | None,
    topics: set[str],
    summary: RunSummary,
    concurrency: int,
) -> None:
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway_url, limits=limits, timeout=10.0) as client:

        async def send(event: DemoEvent) -> None:
            try:
                request = sign(event, secrets, int(time.time()))
                started = time.perf_counter()
                sent_at = time.time()
                response = await client.post(request.path, content=request.body, headers=request.headers)
                summary.http_ms.append((time.perf_counter() - started) * 1000)
                summary.by_status[str(response.status_code)] += 1
                if response.is_success:
                    summary.by_kind[event.kind] += 1
                    summary.sent.append(Sent(event.kind, event.event_id, sent_at, event.keys))
            except httpx.HTTPError as error:
                summary.errors[type(error).__name__] += 1
            finally:
                semaphore.release()

        tasks: set[asyncio.Task[None]] = set()
        schedule.begin()
        index = 0
        for event in events:
            if limit is not None and index >= limit:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if event.ingress_topic not in topics:
                summary.skipped[event.ingress_topic] += 1
                continue
            await asyncio.sleep(schedule.delay(index))
            index += 1
            await semaphore.acquire()
            task = asyncio.create_task(send(event))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)


def run_events(
    events: Iterable[DemoEvent],
    *,
    gateway_url: str,
    secrets: DemoSecrets,
    kafka_config: Mapping[str, str],
    rate: float,
    duration_s: float | None = None,
    limit: int | None = None,
    concurrency: int = 32,
) -> RunSummary:
    """Send until ``duration_s`` passed or ``limit`` events went out (at least one bound is required)."""
    if duration_s is None and limit is None:
        raise ValueError("a demo run needs a duration or an event count")
    _check_loopback(gateway_url)
    summary = RunSummary(planned_rate=rate)
    topics = existing_topics(kafka_config)
    started = time.monotonic()
    deadline = started + duration_s if duration_s is not None else None
    asyncio.run(
        _post_all(
            iter(events),
            gateway_url=gateway_url,
            secrets=secrets,
            schedule=Schedule(rate),
            limit=limit,
            deadline=deadline,
            topics=topics,
            summary=summary,
            concurrency=concurrency,
        )
    )
    summary.elapsed_s = time.monotonic() - started
    return summary
