"""The demo sender is an open loop: it sends on schedule whatever the answers, and times from the schedule."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from esb.demo.generator import Generator
from esb.demo.runner import run_events
from esb.demo.secrets import DemoSecrets
from tests.recording_server import Answer, Recorded, RecordingServer

pytestmark = pytest.mark.unit


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


def _events(count: int) -> list:  # type: ignore[type-arg]
    generator = Generator(DemoSecrets.generate(), seed=3, tag="SND")
    return [next(generator) for _ in range(count)]


def test_requests_do_not_wait_for_earlier_answers(server: RecordingServer) -> None:
    events = _events(12)
    all_arrived = threading.Event()
    lock = threading.Lock()
    arrived: list[str] = []

    def hold_until_all_arrived(request: Recorded) -> Answer:
        with lock:
            arrived.append(request.path)
            if len(arrived) == len(events):
                all_arrived.set()
        # A closed-loop sender would never send the rest while these wait: they would time out.
        return Answer(200, b"ok") if all_arrived.wait(8) else Answer(503, b"not all arrived")

    server.rule = hold_until_all_arrived
    summary = run_events(
        events,
        gateway_url=server.url,
        secrets=DemoSecrets.generate(),
        kafka_config={},
        rate=1000.0,
        limit=len(events),
        concurrency=len(events),
        topics={e.ingress_topic for e in events},
    )
    assert summary.by_status == {"200": len(events)}
    assert len(summary.sent) == len(events)


def test_send_times_are_the_scheduled_ones(server: RecordingServer) -> None:
    events = _events(20)
    server.rule = lambda _: Answer(200, b"ok")
    summary = run_events(
        events,
        gateway_url=server.url,
        secrets=DemoSecrets.generate(),
        kafka_config={},
        rate=200.0,
        limit=len(events),
        topics={e.ingress_topic for e in events},
    )
    due = sorted(sent.sent_at for sent in summary.sent)
    assert len(due) == len(events)
    # Event i is timed from start + i / rate, not from when the sender got round to it.
    assert [round(t - due[0], 6) for t in due] == [round(i / 200.0, 6) for i in range(len(events))]
    assert len(summary.lag_ms) == len(events)
    assert len(summary.http_ms) == len(events)


def test_events_of_missing_topics_are_skipped_not_sent(server: RecordingServer) -> None:
    events = _events(30)
    kept = {events[0].ingress_topic}
    server.rule = lambda _: Answer(200, b"ok")
    summary = run_events(
        events,
        gateway_url=server.url,
        secrets=DemoSecrets.generate(),
        kafka_config={},
        rate=1000.0,
        limit=len(events),
        topics=kept,
    )
    sent = sum(1 for e in events if e.ingress_topic in kept)
    assert summary.accepted == sent == len(server.requests)
    assert sum(summary.skipped.values()) == len(events) - sent
