"""The translator service with its compiled fast path (``TRANSLATOR_NATIVE=on``) against the same
service without it (``off``), end to end on the in-memory bus: for any ingress record, every record
written (canonical events and dead letters: topic, key, value bytes, headers), the dedupe state and
the log lines must be the same. The bodies come from the conformance orders, their variants and
hypothesis mutations; the headers vary too (provider topic, account, received-at, API version,
event id, trace context), since the change kind and the metadata are written around the compiled
body in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.testing import InMemoryBus
from services.translator.adapters.shopify.orders_native import fast_orders
from services.translator.errors import TranslationError
from services.translator.handler import SEEN_STORE
from services.translator.ingress import IngressRecord
from services.translator.registry import all_fast_routes
from services.translator.service import build_service
from services.translator.settings import TranslatorSettings
from tests.translate_support import conformance
from tests.unit.test_native_shopify_orders import _VARIANTS, ORDER_FILES, _targeted, bench_order
from tests.unit.test_translate_properties_channels import mutated

pytestmark = pytest.mark.unit

INPUT = "ingress.shopify.orders"
SERVICE = "translator"
_VOLATILE = {"esb.dlq.first-failure-at"}  # the wall clock at the failure

Headers = list[tuple[str, bytes]]
Written = tuple[str, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


class _Pair:
    """Two buses, one service each: fast path on and off. Records are compared as they are added."""

    def __init__(self, prefix: str = "", locations: dict[str, str] | None = None) -> None:
        self.input = prefix + INPUT
        self.on = self._bus("on", prefix, locations or {})
        self.off = self._bus("off", prefix, locations or {})
        self.answered = 0  # records the fast path answered (so the comparison is not vacuous)

    @staticmethod
    def _bus(native: str, prefix: str, locations: dict[str, str]) -> InMemoryBus:
        bus = InMemoryBus()
        settings = TranslatorSettings(native=native, topic_prefix=prefix, locations=locations)  # type: ignore[arg-type]
        bus.deploy(build_service(settings))
        return bus


@contextmanager
def _new_records(bus: InMemoryBus, into: list[Written], input_topic: str) -> Iterator[None]:
    before = {topic: len(records) for topic, records in bus.topics.items()}
    yield
    for topic, records in sorted(bus.topics.items()):
        if topic == input_topic:
            continue
        for out in records[before.get(topic, 0) :]:
            headers = tuple((k, v) for k, v in out.headers if k not in _VOLATILE)
            into.append((out.topic, out.key, out.value, headers))


def _outcome(
    bus: InMemoryBus, raw: bytes, headers: Headers, input_topic: str = INPUT
) -> tuple[list[Written], list[Any], Any]:
    written: list[Written] = []
    with structlog.testing.capture_logs() as logs, _new_records(bus, written, input_topic):
        bus.publish(input_topic, raw, key=b"k", headers=headers)
    try:
        record = IngressRecord.from_kafka(raw, dict(headers), INPUT)
    except (TranslationError, OverflowError):  # the handler's failure: dead-lettered
        seen = None
    else:
        try:
            store = bus.state(SERVICE, SEEN_STORE)
        except KeyError:  # nothing stored yet
            seen = None
        else:
            seen = store.get(f"{record.system}/{record.account}/{record.provider_event_id}")
    return written, logs, seen


def _compare(pair: _Pair, raw: bytes, headers: Headers, *, must_answer: bool = False) -> None:
    try:
        record: IngressRecord | None = IngressRecord.from_kafka(raw, dict(headers), INPUT)
    except (TranslationError, OverflowError):  # the handler's failure: dead-lettered
        record = None
    answered = record is not None and record.system == "shopify" and fast_orders(record) is not None
    assert answered or not must_answer, "the fast path declined a common shape"
    pair.answered += answered
    on = _outcome(pair.on, raw, headers, pair.input)
    off = _outcome(pair.off, raw, headers, pair.input)
    assert on[0] == off[0], "records written differ"
    assert on[1] == off[1], "log lines differ"
    assert on[2] == off[2], "dedupe state differs"


def _headers(
    *,
    account: bytes | None = b"acme.myshopify.com",
    event_id: bytes | None = b"w-1",
    topic: bytes | None = b"orders/create",
    received_at: bytes | None = b"2024-05-01T12:00:00.000Z",
    api_version: bytes | None = None,
    system: bytes | None = b"shopify",
    extra: Headers = (),  # type: ignore[assignment]
) -> Headers:
    named = {
        "esb-source-system": system,
        "esb-source-account": account,
        "esb-event-id": event_id,
        "esb-event-topic": topic,
        "esb-received-at": received_at,
        "esb-api-version": api_version,
        "content-type": b"application/json",
    }
    return [(name, value) for name, value in named.items() if value is not None] + list(extra)


@pytest.fixture(scope="module")
def pair() -> _Pair:
    assert all_fast_routes(), "esb_native is not installed: nothing to compare"
    return _Pair()


_counter = iter(range(10**9))


def _fresh_id() -> bytes:
    return f"w-{next(_counter)}".encode()


TOPICS = [
    None,
    b"orders/create",
    b"orders/updated",
    b"orders/cancelled",
    b"orders/paid",
    b"",
    b"ORDERS/CREATE",
]
ACCOUNTS = [
    b"acme.myshopify.com",
    " Åcme shop ".encode(),
    b'a"b\\c',
    b"x\ty",
    b"shop\x1f",
    "\u3000shop\u2028".encode(),
    "\U0001f600 shop".encode(),
    b"shop\x7f",
    "shop\u0085".encode(),
    b"\xff\xfe",
    b"",
    b" ",
    None,
]
RECEIVED = [
    b"2024-05-01T12:00:00.000Z",
    b"2024-05-01T12:00:00.123456+05:30",
    b"2024-05-01T12:00:00.9999-00:30",
    b"2024-05-01 12:00:00",
    b"1969-12-31T23:59:59.999999Z",
    b"9999-12-31T23:59:59.999+00:00",
    b"20240501T120000.5+0530",
    b"yesterday",
    b"0001-01-01T00:00:00+01:00",  # before year 1 in UTC
]


@pytest.mark.parametrize("file", ORDER_FILES)
@pytest.mark.parametrize("topic", TOPICS)
def test_conformance_orders_under_each_provider_topic(pair: _Pair, file: str, topic: bytes | None) -> None:
    _compare(
        pair, conformance("shopify", file), _headers(topic=topic, event_id=_fresh_id()), must_answer=True
    )


@pytest.mark.parametrize("account", ACCOUNTS)
def test_accounts(pair: _Pair, account: bytes | None) -> None:
    raw = conformance("shopify", "api_2024-04_order_get_full.json")
    _compare(pair, raw, _headers(account=account, event_id=_fresh_id()))


@pytest.mark.parametrize("received_at", RECEIVED)
@pytest.mark.parametrize("api_version", [None, b"2024-04", b"", "ü".encode()])
def test_received_at_and_api_version(pair: _Pair, received_at: bytes, api_version: bytes | None) -> None:
    raw = conformance("shopify", "python_api_orders.json")
    _compare(pair, raw, _headers(received_at=received_at, api_version=api_version, event_id=_fresh_id()))


def test_without_event_id_and_redelivered(pair: _Pair) -> None:
    raw = conformance("shopify", "api_2024-04_order_create_t16.json")
    _compare(pair, raw, _headers(event_id=None), must_answer=True)
    _compare(pair, raw, _headers(event_id=b""), must_answer=True)
    again = _fresh_id()
    _compare(pair, raw, _headers(event_id=again), must_answer=True)
    _compare(pair, raw, _headers(event_id=again))  # dropped as a duplicate, by both


@pytest.mark.parametrize(
    "extra",
    [
        [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
        [("traceparent", b"00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01")],
        [("traceparent", b"garbage"), ("tracestate", b"a=b")],
        [("esb-source-account", b"other"), ("esb-event-topic", b"orders/cancelled")],  # repeated: last wins
    ],
)
def test_trace_context_and_repeated_headers(pair: _Pair, extra: Headers) -> None:
    raw = conformance("shopify", "api_2024-04_order_get_full.json")
    _compare(pair, raw, _headers(event_id=_fresh_id(), extra=extra))


@pytest.mark.parametrize("variant", list(_VARIANTS))
@pytest.mark.parametrize("topic", [None, b"orders/updated"])
def test_order_variants(pair: _Pair, variant: str, topic: bytes | None) -> None:
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    _VARIANTS[variant](data["order"])
    _compare(pair, json.dumps(data).encode(), _headers(topic=topic, event_id=_fresh_id()), must_answer=True)


@pytest.mark.parametrize("topic", [None, b"orders/updated", b"orders/create"])
@pytest.mark.parametrize(
    ("created", "updated", "cancelled", "closed"),
    [
        ("2024-05-01T10:00:00.123456+02:00", "2024-05-01T08:00:00.123456Z", None, None),  # equal instants
        ("2024-05-01T10:00:00.1239+02:00", "2024-05-01T08:00:00.1235Z", None, None),  # same ms, later µs
        ("2024-05-01T10:00:00.1239+02:00", "2024-05-01T08:00:00.1231Z", None, None),  # same ms, earlier µs
        ("2024-05-01T10:00:00Z", "2024-05-01 09:59:59.999999-00:00", None, None),
        ("2024-05-01T10:00:00Z", None, None, None),
        ("2024-05-01T10:00:00Z", "", " ", None),
        ("2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z", None, "2024-05-02T10:00:00Z"),
        (
            "2024-05-01T10:00:00Z",
            "2024-05-02T10:00:00Z",
            "2024-05-02T10:00:00.5+01:00",
            "2024-05-02T10:00:00Z",
        ),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000001+00:00", None, None),
        ("1969-12-31T23:59:59.9995Z", "9999-12-31T23:59:59.999999Z", None, None),
        ("0001-01-01T00:30:00+01:00", None, None, None),  # before year 1 in UTC: a rejection
    ],
)
def test_instants_and_change_kinds(
    pair: _Pair,
    topic: bytes | None,
    created: str,
    updated: str | None,
    cancelled: str | None,
    closed: str | None,
) -> None:
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    data["order"].update(created_at=created, updated_at=updated, cancelled_at=cancelled, closed_at=closed)
    _compare(pair, json.dumps(data).encode(), _headers(topic=topic, event_id=_fresh_id()))


def test_several_orders_in_one_payload(pair: _Pair) -> None:
    orders = [json.loads(bench_order(5_000_000_001 + n, 1 + n)) for n in range(4)]
    orders[2]["created_at"] = "2024-05-01T10:00:00.5-05:00"
    orders[3]["id"] = orders[0]["id"]  # the same order twice: two events, one key
    raw = json.dumps({"orders": orders}).encode()
    for topic in (None, b"orders/updated"):
        _compare(pair, raw, _headers(topic=topic, event_id=_fresh_id()), must_answer=True)
        _compare(pair, raw, _headers(topic=topic, event_id=None), must_answer=True)
    orders[1]["currency"] = "usd"  # one order the fast path does not read: the whole payload declines
    _compare(pair, json.dumps({"orders": orders}).encode(), _headers(event_id=_fresh_id()))


def test_a_topic_prefix_and_a_location_crosswalk() -> None:
    """Neither changes an order (it has no location to relocate); the prefix is on every topic."""
    pair = _Pair(prefix="run-7.", locations={"shopify:1": "WH-1", "gid://shopify/Location/1": "WH-2"})
    for file in ORDER_FILES:
        _compare(pair, conformance("shopify", file), _headers(event_id=_fresh_id()), must_answer=True)
    _compare(pair, b'{"order": {"id": 1}}', _headers(event_id=_fresh_id()))  # a rejection
    assert pair.on.topics["run-7.canonical.orders.v1"]
    assert pair.on.topics["dlq.translator"]  # the service's dead-letter topic, unprefixed


_HEADER_TEXT = st.one_of(st.none(), st.text(max_size=8).map(lambda t: t.encode("utf-8", "surrogatepass")))


@st.composite
def _varied_headers(draw: st.DrawFn) -> Headers:
    extra: Headers = []
    if draw(st.integers(0, 4)) == 0:
        extra.append(
            (
                draw(st.sampled_from(["esb-event-topic", "esb-source-account", "esb-api-version"])),
                draw(st.binary(max_size=6)),
            )
        )
    return _headers(
        account=draw(st.one_of(st.sampled_from(ACCOUNTS), _HEADER_TEXT)),
        event_id=draw(st.sampled_from([None, b"", _fresh_id(), b"w-fixed"])),
        topic=draw(st.sampled_from(TOPICS)),
        received_at=draw(st.sampled_from(RECEIVED[:-2])),
        api_version=draw(st.sampled_from([None, b"2024-04", b"", b"\xc3"])),
        extra=extra,
    )


_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.mark.parametrize("file", ["api_2024-04_order_get_full.json", "python_api_orders.json"])
@_SETTINGS
@given(data=st.data())
def test_mutated_orders_with_varied_headers(pair: _Pair, file: str, data: st.DataObject) -> None:
    raw = data.draw(mutated(conformance("shopify", file)))
    _compare(pair, raw, data.draw(_varied_headers()))


@pytest.mark.parametrize("file", ["api_2024-04_order_get_full.json", "api_2024-04_order_create_t17.json"])
@_SETTINGS
@given(data=st.data())
def test_edge_values_with_varied_headers(pair: _Pair, file: str, data: st.DataObject) -> None:
    raw = data.draw(_targeted(conformance("shopify", file)))
    _compare(pair, raw, data.draw(_varied_headers()))
