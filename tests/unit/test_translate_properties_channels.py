"""Mutation properties for the commerce-channel adapters (Shopify, WooCommerce, Amazon, Magento).

Hypothesis mutates the conformance payloads — fields removed, values swapped for wrong types, huge
or malformed numbers, lone surrogates, bad UTF-8 bytes, absurd nesting — and each adapter must
either return canonical events that serialize with fastavro against the registered schema, or
raise a TranslationError that names a path and what it expected. Anything else fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.base import AvroRecord
from services.translator.errors import TranslationError
from tests.translate_support import avro_roundtrip, conformance, translate

pytestmark = pytest.mark.unit

Path = tuple[str | int, ...]
_DEEP = "__deep_nesting__"


def _amazon_joined() -> bytes:
    orders = json.loads(conformance("amazon_sp", "getOrders_sandbox_200.json"))["payload"]["Orders"]
    items = json.loads(conformance("amazon_sp", "getOrderItems_sandbox_200.json"))
    return json.dumps({"order": orders[0], "items": items}).encode()


# (system, entity, payload, ingress headers)
CORPUS: list[tuple[str, str, bytes, dict[str, str]]] = [
    *(
        ("shopify", entity, conformance("shopify", name), headers)
        for name, entity, headers in [
            ("api_2024-04_order_get_full.json", "orders", {}),
            ("api_2024-04_order_create_t17.json", "orders", {}),
            ("python_api_order.json", "orders", {}),
            ("api_2024-04_refund_create_a.json", "refunds", {}),
            ("python_api_refund.json", "refunds", {}),
            ("api_2024-04_customer_get.json", "customers", {}),
            ("python_api_customer.json", "customers", {}),
            ("api_2024-04_inventory_level_adjust.json", "inventory-levels", {}),
            ("python_api_fulfillment.json", "fulfillments", {}),
            ("python_api_transaction.json", "order-transactions", {"shop_currency": "USD"}),
        ]
    ),
    ("woocommerce", "orders", conformance("woocommerce", "v3_orders_list.json"), {}),
    (
        "woocommerce",
        "refunds",
        conformance("woocommerce", "v3_order_refunds_list.json"),
        {"shop_currency": "USD"},
    ),
    ("woocommerce", "customers", conformance("woocommerce", "v3_customer_create.json"), {}),
    ("woocommerce", "products", conformance("woocommerce", "v3_product_create.json"), {}),
    ("amazon", "orders", _amazon_joined(), {}),
    (
        "amazon",
        "notifications",
        conformance("amazon_sp", "notification_FBA_INVENTORY_AVAILABILITY_CHANGES_payload.json"),
        {},
    ),
    ("amazon", "notifications", conformance("amazon_sp", "notification_ORDER_CHANGE.json"), {}),
    ("magento", "invoices", conformance("magento2", "invoice_get.json"), {}),
    ("magento", "source-items", conformance("magento2", "msi_source_items_request.json"), {}),
    ("magento", "customers", conformance("magento2", "customer_create_response.json"), {}),
]
IDS = [f"{system}.{entity}[{i}]" for i, (system, entity, _, _) in enumerate(CORPUS)]


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "1e999999",
            "NaN",
            "-Infinity",
            "12.345678",
            "1_000.00",
            "\u0661\u0662",
            "\ud800",
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "2024-02-30T10:00:00Z",
            "-1",
            "xyz",
            "9" * 40,
            _DEEP,
        ]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    document = json.loads(raw)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(_paths(document))))
        operation = draw(st.sampled_from(["delete", "replace", "replace", "wrap"]))
        if not path:
            document = draw(_VALUES) if operation == "replace" else document
            continue
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if operation == "delete":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(_VALUES)
        else:
            parent[key] = [parent[key]] if draw(st.booleans()) else {"x": parent[key]}
    text = json.dumps(document).replace(json.dumps(_DEEP), "[" * 3000 + "]" * 3000)
    data = text.encode()
    if draw(st.integers(min_value=0, max_value=9)) == 0:  # sometimes: bytes that are not UTF-8
        cut = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + data[cut:]
    return data


def _outcome(
    system: str, entity: str, raw: bytes, headers: dict[str, str]
) -> Sequence[AvroRecord] | TranslationError:
    """The events, or the rejection; any other exception propagates and fails the test."""
    try:
        return translate(system, entity, raw, **headers)
    except TranslationError as error:
        return error


def _check(system: str, entity: str, raw: bytes, headers: dict[str, str]) -> None:
    outcome = _outcome(system, entity, raw, headers)
    if isinstance(outcome, TranslationError):
        assert outcome.path
        assert outcome.expected
        assert str(outcome)
        return
    for event in outcome:
        assert isinstance(event, AvroRecord)
        assert avro_roundtrip(event) == event


@pytest.mark.parametrize(("system", "entity", "raw", "headers"), CORPUS, ids=IDS)
def test_unmutated_corpus_translates_or_is_a_documented_rejection(
    system: str, entity: str, raw: bytes, headers: dict[str, str]
) -> None:
    _check(system, entity, raw, headers)


@pytest.mark.parametrize(("system", "entity", "raw", "headers"), CORPUS, ids=IDS)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_mutated_payloads_translate_or_reject_precisely(
    system: str, entity: str, raw: bytes, headers: dict[str, str], data: st.DataObject
) -> None:
    _check(system, entity, data.draw(mutated(raw)), headers)


@pytest.mark.parametrize(
    ("system", "entity"),
    [("shopify", "orders"), ("woocommerce", "orders"), ("amazon", "orders"), ("magento", "invoices")],
)
@pytest.mark.parametrize(
    "raw",
    [b"", b"\xff\xfe", b"null", b"[]", b"{}", b"[" * 100000, b'"text"', b"12", b'{"order": []}'],
)
def test_garbage_is_rejected_with_a_path(system: str, entity: str, raw: bytes) -> None:
    outcome = _outcome(system, entity, raw, {})
    if isinstance(outcome, TranslationError):
        assert outcome.path
        return
    assert list(outcome) == []  # e.g. an empty list of orders: nothing to translate, nothing invented
