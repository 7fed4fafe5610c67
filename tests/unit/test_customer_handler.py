"""The forwarder and the matcher through the runtime's record path (bus.testing, no broker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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
from services.customer_merger.handler import build_forwarder, build_matcher
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


def _latest(bus: InMemoryBus, topic: str) -> dict[bytes, object]:
    latest: dict[bytes, object] = {}
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
    assert {str(entry.golden_id) for entry in crosswalk.values()} == {str(golden.golden_id)}  # type: ignore[union-attr]
    erp_link = crosswalk[str(erp.customer.customer_id).encode()]
    assert erp_link.evidence[0].rule == "exact_email"  # type: ignore[union-attr]


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


def test_http_lookups_by_id_email_and_phone() -> None:
    import json
    import urllib.request

    from services.customer_merger.books import Books, MemoryStore
    from services.customer_merger.engine import MatchEngine
    from services.customer_merger.forward import from_customer
    from services.customer_merger.queries import CustomerQueries, QueryServer

    store, engine = MemoryStore(), MatchEngine(S)
    for event in (
        _customer("shopify", "1", email="Ana@Example.com", first_name="Ana", last_name="Silva"),
        _customer(
            "pos", "2", phone="(415) 555-2671", first_name="Ana", last_name="Silva", email="ana@example.com"
        ),
    ):
        books = Books(store, "merger")
        engine.apply(from_customer(event, S), books)
        store.apply(books.changes())
    server = QueryServer("127.0.0.1", 0, CustomerQueries(store, S))
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}/customers"
        with urllib.request.urlopen(f"{base}?phone=%2B14155552671") as response:  # noqa: S310
            (found,) = json.load(response)["customers"]
        assert {m["source"]["system"] for m in found["members"]} == {"shopify", "pos"}
        with urllib.request.urlopen(f"{base}/{found['golden_id']}") as response:  # noqa: S310
            assert json.load(response)["email"] == "ana@example.com"
        with urllib.request.urlopen(f"{base}?email=ANA@example.com") as response:  # noqa: S310
            assert json.load(response)["customers"][0]["golden_id"] == found["golden_id"]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/{uuid.uuid4()}")  # noqa: S310
        assert missing.value.code == 404
    finally:
        server.stop()
