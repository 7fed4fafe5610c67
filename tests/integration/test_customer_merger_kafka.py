"""The customer merger on the real broker: kill -9 mid-run, then compare with a run from scratch;
then erase one person and check every compacted output, the changelog and the ``/customers``
queries the running service answers on its ops port.

Size: ``CUSTOMER_MERGER_IT_PERSONS`` people (default 4,000: about 10,000 source records, so the test
stays within a few minutes on a small shared machine). The issue's full size is the same test with
``CUSTOMER_MERGER_IT_PERSONS=45000`` (about 100,000 source records) and ``--timeout 2600``; see
benchmarks/README.md.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.clients import producer_config
from bus.config import StateBackend
from bus.state.backends import open_backend
from bus.state.restore import RestoreTarget, restore
from bus.state.store import StorePartition
from esb.devstack.processes import free_port
from schemas.common.models import EventMetadata, SourceRef
from schemas.customers import CustomerEvent, ErasureRequest
from schemas.loader import schema_text
from schemas.orders.models import OrderEvent
from tests.customer_data import Population, generate, pair_metrics
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.runtime.harness import ServiceProcess, committed_total, read_all, running, service_env

pytestmark = pytest.mark.integration

PERSONS = int(os.environ.get("CUSTOMER_MERGER_IT_PERSONS", "4000"))
PARTITIONS = 3
KILLS = 3
COMPACT = {"cleanup.policy": "compact", "segment.ms": "60000", "min.cleanable.dirty.ratio": "0.01"}


class Topics:
    def __init__(self, create_topic: Callable[..., str]) -> None:
        self.customers = create_topic("customers", PARTITIONS)
        self.orders = create_topic("orders", PARTITIONS)
        self.erasure = create_topic("erasure", 1)
        self.steward = create_topic("steward", 1)

    def outputs(self, create_topic: Callable[..., str]) -> dict[str, str]:
        return {
            "CUSTOMER_MERGER_MATCH_TOPIC": create_topic("match", 1),
            "CUSTOMER_MERGER_GOLDEN_TOPIC": create_topic("golden", PARTITIONS, COMPACT),
            "CUSTOMER_MERGER_CROSSWALK_TOPIC": create_topic("crosswalk", PARTITIONS, COMPACT),
            "CUSTOMER_MERGER_MERGES_TOPIC": create_topic("merges", 1),
            "CUSTOMER_MERGER_REVIEWS_TOPIC": create_topic("reviews", 1),
        }


def _produce(stack: StackEndpoints, topics: Topics, population: Population) -> None:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    serializers = {
        CustomerEvent: AvroSerializer(
            registry, schema_text(CustomerEvent.avro_name()), lambda v, _c: v.model_dump()
        ),
        OrderEvent: AvroSerializer(
            registry, schema_text(OrderEvent.avro_name()), lambda v, _c: v.model_dump()
        ),
    }
    # The runtime's partitioner (murmur2_random), as every producer feeding the bus must use.
    producer = Producer(producer_config({"bootstrap.servers": stack.bootstrap_servers}, {"linger.ms": 20}))
    for event in population.events:
        if isinstance(event, CustomerEvent):
            topic, key = topics.customers, str(event.customer.customer_id)
        else:
            topic, key = topics.orders, str(event.order.order_id)
        value = serializers[type(event)](event, SerializationContext(topic, MessageField.VALUE))
        while True:
            try:
                producer.produce(topic, value, key=key.encode())
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def _env(
    stack: StackEndpoints, tmp: Path, service: str, topics: Topics, outputs: dict[str, str], ops_port: int
) -> dict[str, str]:
    return service_env(
        stack,
        tmp / "state",
        ESB_INSTANCE_ID="0",
        ESB_STATE_BACKEND="sqlite",
        ESB_HTTP_HOST="127.0.0.1",
        ESB_HTTP_PORT=str(ops_port),
        CUSTOMER_MERGER_SERVICE_NAME=service,
        CUSTOMER_MERGER_CUSTOMERS_TOPIC=topics.customers,
        CUSTOMER_MERGER_ORDERS_TOPIC=topics.orders,
        CUSTOMER_MERGER_ERASURE_TOPIC=topics.erasure,
        CUSTOMER_MERGER_STEWARD_TOPIC=topics.steward,
        **outputs,
    )


def _wait(predicate: Callable[[], bool], process: ServiceProcess, log: Path, timeout: float) -> None:
    """Until ``predicate`` holds and the last start is up (both halves past ``init_transactions``),
    so that the SIGTERM that follows meets a running process, not one still starting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.alive, "the merger died on its own"
        if predicate() and log.read_text().count('"event": "running"') >= 2 * process.starts:
            return
        time.sleep(1.0)
    raise AssertionError("the merger did not finish its input in time")


def _latest(stack: StackEndpoints, topic: str) -> dict[str, dict[str, Any] | None]:
    decode = AvroDeserializer(
        SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    )
    latest: dict[str, dict[str, Any] | None] = {}
    for message in read_all(stack.bootstrap_servers, topic, PARTITIONS, timeout=120):
        value = message.value()
        key = message.key().decode()
        latest[key] = (
            None if value is None else decode(value, SerializationContext(topic, MessageField.VALUE))
        )
    return latest


def _clusters(goldens: dict[str, dict[str, Any] | None]) -> dict[frozenset[tuple[str, ...]], dict[str, Any]]:
    """Golden records by their member set, with what they say (ids, revisions, metadata aside)."""
    clusters: dict[frozenset[tuple[str, ...]], dict[str, Any]] = {}
    for golden in goldens.values():
        if golden is None:
            continue
        members = frozenset(
            (m["system"], m["account"], m["entity"], m["native_id"]) for m in golden["members"]
        )
        said = {
            k: golden[k]
            for k in ("email", "phone", "first_name", "last_name", "company", "addresses", "summary")
        }
        clusters[members] = said
    return clusters


def test_kill9_matches_a_run_from_scratch_and_erasure_leaves_nothing(
    stack: StackEndpoints, create_topic: Callable[..., str], unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    population = generate(PERSONS, seed=23)
    topics = Topics(create_topic)
    _produce(stack, topics, population)
    expected = len(population.events)
    bootstrap = stack.bootstrap_servers

    # Run 1: killed with SIGKILL several times while it works.
    crashed = unique_name("cm")
    crashed_out = topics.outputs(create_topic)
    first = ServiceProcess(
        "services.customer_merger",
        _env(stack, tmp_path / "a", crashed, topics, crashed_out, free_port()),
        tmp_path / "a.log",
    )
    # Run 2: from scratch, never interrupted, on the same inputs.
    clean = unique_name("cm")
    clean_out = topics.outputs(create_topic)
    ops_port = free_port()
    ops = f"http://127.0.0.1:{ops_port}"  # the clean run's ops port: health, metrics, /customers
    second = ServiceProcess(
        "services.customer_merger",
        _env(stack, tmp_path / "b", clean, topics, clean_out, ops_port),
        tmp_path / "b.log",
    )
    rng = random.Random(5)

    def finished(service: str, outputs: dict[str, str], erasures: int = 0) -> Callable[[], bool]:
        """Done when the forwarder has committed every input and the matcher every forwarded record.

        The match topic is written in transactions, so its offsets include commit markers: the
        matcher's target is the offset after the last data record, read once the forwarder is done.
        """
        match_topic = outputs["CUSTOMER_MERGER_MATCH_TOPIC"]
        target: list[int] = []

        def check() -> bool:
            group = f"{service}-forward"
            forwarded = committed_total(bootstrap, group, topics.customers, PARTITIONS)
            forwarded += committed_total(bootstrap, group, topics.orders, PARTITIONS)
            if forwarded < expected or committed_total(bootstrap, group, topics.erasure, 1) < erasures:
                return False
            if not target:
                target.append(read_all(bootstrap, match_topic, 1, timeout=120)[-1].offset() + 1)
            return committed_total(bootstrap, service, match_topic, 1) >= target[0]

        return check

    with running([first, second]):
        first.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(2.0, 5.0))
            first.kill()
            first.start()
        _wait(finished(crashed, crashed_out), first, tmp_path / "a.log", timeout=max(600, expected / 20))
        assert first.stop() == 0
        second.start()
        _wait(finished(clean, clean_out), second, tmp_path / "b.log", timeout=max(600, expected / 20))

        after_crashes = _latest(stack, crashed_out["CUSTOMER_MERGER_GOLDEN_TOPIC"])
        from_scratch = _latest(stack, clean_out["CUSTOMER_MERGER_GOLDEN_TOPIC"])
        assert first.kills == KILLS
        assert _clusters(after_crashes) == _clusters(from_scratch)
        crosswalk = _latest(stack, crashed_out["CUSTOMER_MERGER_CROSSWALK_TOPIC"])
        assert {k for k, v in crosswalk.items() if v is not None} == set(population.person_of)
        live = {g for g, v in after_crashes.items() if v is not None}
        assert {str(v["golden_id"]) for v in crosswalk.values() if v is not None} == live
        by_golden: dict[str, list[str]] = {}
        for customer_id, entry in crosswalk.items():
            if entry is not None:
                by_golden.setdefault(str(entry["golden_id"]), []).append(customer_id)
        clusters = list(by_golden.values())
        assert pair_metrics(clusters, population.person_of)["precision"] >= 0.995

        # Erasure of one person known to several sources, by email, on the clean run.
        victim = _a_merged_golden(from_scratch)
        email = victim["email"]
        victim_id = str(victim["golden_id"])
        assert httpx.get(f"{ops}/readyz", timeout=5).status_code == 200  # both roles of the process
        served = httpx.get(f"{ops}/customers/{victim_id}", timeout=10)
        assert served.status_code == 200
        assert {m["customer_id"] for m in served.json()["members"]} == {
            cid for cid, entry in _latest_crosswalk_before(stack, clean_out).items() if entry == victim_id
        }
        by_email = httpx.get(f"{ops}/customers", params={"email": email.upper()}, timeout=10).json()
        assert victim_id in {c["golden_id"] for c in by_email["customers"]}
        request = ErasureRequest(
            metadata=EventMetadata(
                event_id=uuid.uuid4(),
                event_type="erasure.requested",
                occurred_at=datetime.now(UTC),
                ingested_at=datetime.now(UTC),
                source=SourceRef(system="gateway", account="dsr", entity="erasure", native_id="1"),
            ),
            request_id=uuid.uuid4(),
            email=email,
            requested_at=datetime.now(UTC),
        )
        registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
        serialize = AvroSerializer(
            registry, schema_text(ErasureRequest.avro_name()), lambda v, _c: v.model_dump()
        )
        producer = Producer(producer_config({"bootstrap.servers": bootstrap}))
        producer.produce(
            topics.erasure,
            serialize(request, SerializationContext(topics.erasure, MessageField.VALUE)),
            key=str(request.request_id).encode(),
        )
        assert producer.flush(30) == 0
        _wait(finished(clean, clean_out, erasures=1), second, tmp_path / "b.log", timeout=120)
        # The running service's queries no longer know the person (committed state, polled: the
        # store is written to disk right after the commit the wait above saw).
        erased = _poll_http(lambda: httpx.get(f"{ops}/customers/{victim_id}", timeout=10).status_code == 404)
        assert erased, "GET /customers/{golden_id} still answers for an erased person"
        assert httpx.get(f"{ops}/customers", params={"email": email}, timeout=10).json() == {"customers": []}
        assert second.stop() == 0

    golden_after = _latest(stack, clean_out["CUSTOMER_MERGER_GOLDEN_TOPIC"])
    crosswalk_after = _latest(stack, clean_out["CUSTOMER_MERGER_CROSSWALK_TOPIC"])
    member_ids = [
        cid for cid, entry in _latest_crosswalk_before(stack, clean_out).items() if entry == victim_id
    ]
    assert len(member_ids) >= 2
    assert golden_after[victim_id] is None
    assert all(crosswalk_after[cid] is None for cid in member_ids)
    assert all(v is None or email != v.get("email") for v in golden_after.values())

    # The matcher's changelog, restored, keeps no record of the person's sources or golden record.
    store = StorePartition("merger", 0, open_backend(StateBackend.SQLITE, tmp_path / "check"))
    restore(
        {"bootstrap.servers": bootstrap}, "cm-check", [RestoreTarget(store, f"{clean}.merger.changelog")], 60
    )
    assert store.backend.get(f"g:{victim_id}".encode()) is None
    assert all(store.backend.get(f"s:{cid}".encode()) is None for cid in member_ids)
    store.close()


def _poll_http(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _a_merged_golden(goldens: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    for golden in goldens.values():
        if golden is not None and golden["email"] and len(golden["members"]) >= 3:
            return golden
    raise AssertionError("no golden record with three members and an email")


def _latest_crosswalk_before(stack: StackEndpoints, outputs: dict[str, str]) -> dict[str, str]:
    """Every source id the crosswalk ever linked, with the golden id it was last linked to."""
    decode = AvroDeserializer(
        SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    )
    topic = outputs["CUSTOMER_MERGER_CROSSWALK_TOPIC"]
    linked: dict[str, str] = {}
    for message in read_all(stack.bootstrap_servers, topic, PARTITIONS, timeout=120):
        if message.value() is not None:
            entry = decode(message.value(), SerializationContext(topic, MessageField.VALUE))
            linked[message.key().decode()] = str(entry["golden_id"])
    return linked
