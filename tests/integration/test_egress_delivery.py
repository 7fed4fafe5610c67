"""Canonical orders -> egress service -> egress topic -> delivery connector -> a recording HTTP target,
on the real broker, with the connector killed (SIGKILL) mid-run and a target that answers 429 and 400;
and two accounts, one throttled, to show a 429 pauses only that account's partitions.

What must hold: every document arrives; duplicates (re-deliveries after the crash or a retry) carry
the same idempotency key; 429s slow delivery down without losing a document; a 400 validation error
is dead-lettered with the target's error body.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from schemas.loader import schema_text
from schemas.orders.models import OrderEvent
from services.egress import netsuite
from services.egress.keys import external_id
from tests import egress_support as samples
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.egress_envs import connector_env, egress_env
from tests.integration.runtime.harness import ServiceProcess, running, service_env, wait_until
from tests.recording_server import Answer, Recorded, RecordingServer, netsuite_error

pytestmark = pytest.mark.integration

ORDERS = 48
PARTITIONS = 3
TOKEN = "integration-token"


@pytest.fixture
def topics(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[dict[str, str]]:
    base = unique_name("egress-it")
    names = {
        "orders": f"{base}.canonical.orders.v1",
        "egress": f"{base}.egress.netsuite.sales-orders",
        "prefix": f"{base}.",
        "egress_service": f"egress-{base[-8:]}",
        "connector_service": f"delivery-{base[-8:]}",
    }
    created = [names["orders"], names["egress"]]
    futures = kafka_admin.create_topics(
        [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=-1) for topic in created]
    )
    for future in futures.values():
        future.result(timeout=30)
    yield names
    runtime_topics = [
        f"dlq.{names['egress_service']}",
        f"dlq.{names['connector_service']}",
        f"{names['egress_service']}.x12-control.changelog",
        f"{names['egress_service']}.orders.changelog",
    ]
    for future in kafka_admin.delete_topics(created + runtime_topics).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def _produce_orders(stack: StackEndpoints, topic: str) -> list[OrderEvent]:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    serialize = AvroSerializer(registry, schema_text(OrderEvent.avro_name()), lambda v, _ctx: v.to_avro())
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True})
    events = [samples.order_event(name=str(450789469 + n)) for n in range(ORDERS)]
    for event in events:
        value = serialize(event, SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, value, key=str(event.order.order_id).encode())
    assert producer.flush(30) == 0
    return events


class Target:
    """The scripted NetSuite: a burst of 429s, then every 5th request 429, one order refused with 400."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        with self._lock:
            self._count += 1
            count = self._count
        if self.refused in request.path:
            return Answer(400, netsuite_error("INVALID_KEY_OR_REF", "Invalid entity reference key 1842."))
        if count <= 3 or count % 5 == 0:
            return Answer(429, b'{"title": "Too Many Requests"}', {"Retry-After": "0"})
        return Answer(204, b"")


def test_orders_reach_netsuite_exactly_once_in_effect_despite_crash_and_429(
    stack: StackEndpoints, topics: dict[str, str], tmp_path: Path
) -> None:
    events = _produce_orders(stack, topics["orders"])
    expected = {external_id("order", event.order.order_id) for event in events}
    refused = external_id("order", events[7].order.order_id)

    with RecordingServer() as server:
        server.rule = Target(refused)
        egress_settings = egress_env(
            stack,
            tmp_path / "egress-state",
            topics,
            EGRESS_ORDERS_TOPIC=topics["orders"],
            EGRESS_ORDER_TARGETS='["netsuite"]',
            EGRESS_NETSUITE=samples.NETSUITE.model_dump_json(),
        )
        connector_settings = connector_env(
            stack,
            tmp_path / "connector-state",
            topics,
            {"1234567": {"base_url": server.url, "auth": "bearer", "token": TOKEN, "rate_per_second": 50}},
            ESB_COMMIT_EVERY="4",
            ESB_RETRY_ATTEMPTS="40",
            ESB_RETRY_INITIAL_BACKOFF_MS="20",
            ESB_RETRY_MAX_BACKOFF_MS="200",
        )
        egress = ServiceProcess("services.egress", egress_settings, tmp_path / "egress.log")
        connector = ServiceProcess("services.connectors", connector_settings, tmp_path / "connector.log")
        with running([egress, connector]):
            egress.start()
            connector.start()
            assert wait_until(lambda: len(server.writes()) >= ORDERS // 3, timeout=120), _logs(tmp_path)
            connector.kill()  # mid-run: some documents delivered but their offsets not yet committed
            connector.start()

            def delivered() -> set[str]:
                return {
                    _external_id(r)
                    for r, status in zip(server.writes(), server.answered, strict=False)
                    if status < 300
                }

            assert wait_until(lambda: delivered() >= expected - {refused}, timeout=180), _logs(tmp_path)
            assert wait_until(lambda: _dead_letters(stack, topics) >= 1, timeout=60, interval=2), _logs(
                tmp_path
            )
            egress.stop()
            connector.stop()

    writes = server.writes()
    statuses = server.answered
    # Every document arrived, and the refused one never got a success.
    assert delivered() == expected - {refused}
    # Duplicates (crash re-deliveries, retries after 429) carry the same idempotency key per document.
    keys: dict[str, set[str]] = defaultdict(set)
    for request in writes:
        keys[_external_id(request)].add(request.headers["Idempotency-Key"])
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert all(len(values) == 1 for values in keys.values()), keys
    assert TOKEN not in _logs(tmp_path)  # credentials never reach the logs
    assert set(keys) == expected
    # The target pushed back, and the documents it pushed back on were delivered later all the same.
    throttled = {_external_id(r) for r, s in zip(writes, statuses, strict=False) if s == 429}
    assert throttled
    assert throttled - {refused} <= delivered()
    # The 400 is in the connector's DLQ with NetSuite's own error text.
    # (at least once: a crash after the dead letter and before the commit dead-letters it again)
    letters = _dlq(stack, topics)
    assert letters
    for letter in letters:
        headers = dict(letter.headers())
        assert b"Invalid entity reference key 1842." in headers["esb.dlq.error.message"]
        assert headers["esb.egress.external-id"] == refused.encode()


def _external_id(request: Recorded) -> str:
    return request.path.split("eid:", 1)[1].split("?", 1)[0]


def _dlq(stack: StackEndpoints, topics: dict[str, str]) -> list[Any]:
    """The connector's dead letters so far (the runtime creates its DLQ topic on start)."""
    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": f"dlq-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "allow.auto.create.topics": False,
        }
    )
    try:
        consumer.subscribe([f"dlq.{topics['connector_service']}"])
        return [m for m in consumer.consume(100, timeout=5) if m.error() is None]
    finally:
        consumer.close()


def _dead_letters(stack: StackEndpoints, topics: dict[str, str]) -> int:
    return len(_dlq(stack, topics))


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in folder.glob("*.log"))


class TwoAccounts:
    """Account A answers 429 (``Retry-After: 1``) until every document of account B is delivered."""

    def __init__(self, token_a: str, b_documents: int) -> None:
        self._token_a = f"Bearer {token_a}"
        self._b_documents = b_documents
        self._lock = threading.Lock()
        self.b_delivered = 0
        self.a_delivered = 0
        self.a_delivered_when_b_done: int | None = None
        self.a_events: list[tuple[float, int]] = []  # (monotonic time, status) of A's requests

    def __call__(self, request: Recorded) -> Answer:
        with self._lock:
            if request.headers["Authorization"] == self._token_a:
                throttled = self.a_delivered_when_b_done is None
                status = 429 if throttled else 204
                self.a_events.append((time.monotonic(), status))
                if throttled:
                    return Answer(429, b'{"title": "Too Many Requests"}', {"Retry-After": "1"})
                self.a_delivered += 1
                return Answer(204, b"")
            self.b_delivered += 1
            if self.b_delivered == self._b_documents:
                self.a_delivered_when_b_done = self.a_delivered
            return Answer(204, b"")


def test_a_throttled_account_pauses_only_its_partitions_and_its_retry_after_is_honoured(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    kafka_admin: AdminClient,
    tmp_path: Path,
) -> None:
    topic = create_topic("egress.netsuite.sales-orders", PARTITIONS)
    service = unique_name("delivery").replace(".", "-")
    a_docs, b_docs = 3, 8
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    for n in range(a_docs + b_docs):
        doc = netsuite.sales_order(samples.order_event(name=str(5000 + n)), samples.NETSUITE)
        headers = dict(doc.headers())
        if n >= a_docs:  # account B on partitions 1 and 2; account A alone on partition 0
            headers["esb.egress.account"] = b"7654321"
        partition = 0 if n < a_docs else 1 + n % 2
        producer.produce(topic, doc.body, key=b"k", headers=list(headers.items()), partition=partition)
    assert producer.flush(30) == 0

    with RecordingServer() as server:
        rule = TwoAccounts("token-a", b_docs)
        server.rule = rule
        accounts = {
            "1234567": {"base_url": server.url, "auth": "bearer", "token": "token-a", "rate_per_second": 50},
            "7654321": {"base_url": server.url, "auth": "bearer", "token": "token-b", "rate_per_second": 50},
        }
        env = service_env(
            stack,
            tmp_path / "state",
            ESB_GUARANTEE="at_least_once",
            ESB_COMMIT_INTERVAL_MS="200",
            CONNECTOR_SERVICE_NAME=service,
            CONNECTOR_TOPICS=json.dumps([topic]),
            CONNECTOR_ACCOUNTS=json.dumps(accounts),
            CONNECTOR_BACKOFF_INITIAL_S="0.05",
        )
        connector = ServiceProcess("services.connectors", env, tmp_path / "connector.log")
        with running([connector]):
            connector.start()
            assert wait_until(lambda: rule.a_delivered >= a_docs, timeout=120), _logs(tmp_path)
            assert connector.stop() == 0

    # Every document of B went through while A was still being refused: A's 429s paused A only.
    assert rule.b_delivered == b_docs
    assert rule.a_delivered_when_b_done == 0
    refusals = [at for at, status in rule.a_events if status == 429]
    assert refusals
    # After each 429 the next request for A came no sooner than Retry-After (1 s).
    for (at, status), (next_at, _) in itertools.pairwise(rule.a_events):
        if status == 429:
            assert next_at - at >= 1.0, rule.a_events
    for future in kafka_admin.delete_topics([f"dlq.{service}"]).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)
