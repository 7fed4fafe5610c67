"""The forwarder and the matcher through the runtime's record path (bus.testing, no broker)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from bus.testing import InMemoryBus
from schemas.common.models import EventMetadata, SourceRef
from schemas.customers import (
    CustomerChange,
    CustomerEvent,
    CustomerStewardCommand,
    ErasureRequest,
    GoldenCustomer,
    MergeKind,
    SourceCustomer,
)
from schemas.ids import canonical_id
from services.customer_merger.handler import STORE, build_forwarder, build_matcher
from services.customer_merger.settings import CustomerMergerSettings

pytestmark = pytest.mark.unit

S = CustomerMergerSettings()
AT = datetime(2024, 5, 1, tzinfo=UTC)


def _meta(system: str, native: str) -> EventMetadata:
    return EventMetadata(
        event_id=uuid.uuid4(),
        event_type="customer.updated",
        occurred_at=AT,
        ingested_at=AT,
        source=SourceRef(system=system, account="acct", entity="customer", native_id=native),
    )


def _customer(system: str, native: str, **fields: object) -> CustomerEvent:
    customer = SourceCustomer(
        customer_id=canonical_id(system, "acct", "customer", native),
        native_id=native,
        **fields,  # type: ignore[arg-type]
    )
    return CustomerEvent(metadata=_meta(system, native), change=CustomerChange.UPDATED, customer=customer)


@pytest.fixture
def bus() -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_forwarder(S))
    bus.deploy(build_matcher(S))
    return bus


def _send(bus: InMemoryBus, topic: str, key: str, value: object) -> None:
    bus.publish(topic, bus.encode(topic, value), key.encode())


def _latest(bus: InMemoryBus, topic: str) -> dict[bytes, Any]:
    latest: dict[bytes, Any] = {}
    for record in bus.topics[topic]:
        assert record.key is not None
        latest[record.key] = None if record.value is None else bus.decode(topic, record.value)
    return latest


def test_two_sources_become_one_golden_customer_with_a_crosswalk(bus: InMemoryBus) -> None:
    shop = _customer("shopify", "1", email="Ana@Example.com", first_name="Ana", last_name="Silva")
    erp = _customer(
        "netsuite", "A-7", email="ana@example.com", first_name="ANA", last_name="Silva", phone="+351912345678"
    )
    _send(bus, S.customers_topic, str(shop.customer.customer_id), shop)
    _send(bus, S.customers_topic, str(erp.customer.customer_id), erp)
    assert not bus.topics.get("dlq.customer-merger-forward")
    assert not bus.topics.get("dlq.customer-merger")
    goldens = {k: v for k, v in _latest(bus, S.golden_topic).items() if v is not None}
    (golden,) = goldens.values()
    assert isinstance(golden, GoldenCustomer)
    assert golden.email == "ana@example.com"
    assert golden.phone == "+351912345678"
    assert {m.system for m in golden.members} == {"shopify", "netsuite"}
    crosswalk = _latest(bus, S.crosswalk_topic)
    assert {str(entry.golden_id) for entry in crosswalk.values()} == {str(golden.golden_id)}
    erp_link = crosswalk[str(erp.customer.customer_id).encode()]
    assert erp_link.evidence[0].rule == "exact_email"


def test_unmerge_and_erasure_publish_events_and_tombstones(bus: InMemoryBus) -> None:
    a = _customer("shopify", "1", email="eve@example.com", first_name="Eve", last_name="Ray")
    b = _customer("pos", "9", email="eve@example.com", first_name="Eve", last_name="Ray")
    for event in (a, b):
        _send(bus, S.customers_topic, str(event.customer.customer_id), event)
    (golden_key,) = [k for k, v in _latest(bus, S.golden_topic).items() if v is not None]
    command = CustomerStewardCommand(
        metadata=_meta("steward", "c1"),
        command_id=uuid.uuid4(),
        kind=MergeKind.UNMERGE,
        golden_id=uuid.UUID(golden_key.decode()),
        customer_ids=[b.customer.customer_id],
    )
    _send(bus, S.steward_topic, str(command.command_id), command)
    merges = [bus.decode(S.merges_topic, r.value) for r in bus.topics[S.merges_topic] if r.value]
    assert [m.kind for m in merges] == [MergeKind.UNMERGE]
    assert len([v for v in _latest(bus, S.golden_topic).values() if v is not None]) == 2

    request = ErasureRequest(
        metadata=_meta("gateway", "r1"),
        request_id=uuid.uuid4(),
        email="EVE@example.com",
        requested_at=AT,
    )
    _send(bus, S.erasure_topic, str(request.request_id), request)
    assert all(v is None for v in _latest(bus, S.golden_topic).values())
    assert all(v is None for v in _latest(bus, S.crosswalk_topic).values())
    store = bus.state(S.service_name, "merger")
    assert store.get(f"s:{a.customer.customer_id}") is None
    assert store.get("b:e:eve@example.com") is None


def test_lookups_by_id_email_and_phone_are_runtime_queries(bus: InMemoryBus) -> None:
    shop = _customer("shopify", "1", email="Ana@Example.com", first_name="Ana", last_name="Silva")
    pos = _customer(
        "pos", "2", phone="(415) 555-2671", first_name="Ana", last_name="Silva", email="ana@example.com"
    )
    for event in (shop, pos):
        _send(bus, S.customers_topic, str(event.customer.customer_id), event)

    by_phone = bus.query(S.service_name, "/customers?phone=%2B14155552671")
    assert by_phone.status == 200
    (found,) = json.loads(by_phone.body)["customers"]
    assert {m["source"]["system"] for m in found["members"]} == {"shopify", "pos"}
    assert "ESB-State-Positions" in by_phone.headers
    by_id = bus.query(S.service_name, f"/customers/{found['golden_id']}")
    assert by_id.status == 200
    assert json.loads(by_id.body)["email"] == "ana@example.com"
    by_email = json.loads(bus.query(S.service_name, "/customers?email=ANA@example.com").body)
    assert [c["golden_id"] for c in by_email["customers"]] == [found["golden_id"]]
    assert json.loads(bus.query(S.service_name, "/customers?email=nobody@example.com").body) == {
        "customers": []
    }
    assert bus.query(S.service_name, f"/customers/{uuid.uuid4()}").status == 404
    assert bus.query(S.service_name, "/customers").status == 404  # neither email nor phone


def test_queries_over_a_fixed_committed_state() -> None:
    from bus.query import QueryRouter
    from bus.testing import StaticState
    from services.customer_merger.books import Books, MemoryStore
    from services.customer_merger.engine import MatchEngine
    from services.customer_merger.forward import from_customer

    store, engine = MemoryStore(), MatchEngine(S)
    event = _customer("shopify", "7", email="kim@example.com", first_name="Kim", last_name="Lee")
    books = Books(store, STORE)
    engine.apply(from_customer(event, S), books)
    store.apply(books.changes())
    router = QueryRouter(build_matcher(S).queries, StaticState({STORE: [store.data]}))
    answer = router.answer("/customers?email=KIM@example.com")
    assert answer is not None
    assert answer.status == 200
    (golden,) = json.loads(answer.body)["customers"]
    assert golden["members"][0]["customer_id"] == str(event.customer.customer_id)
