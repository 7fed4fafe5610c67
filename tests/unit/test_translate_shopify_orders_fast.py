"""The Shopify orders fast path (plain dicts, records built unvalidated from pre-checked values)
against the adapter it replaced (``tests/shopify_orders_reference.py``): the same events, byte for
byte in JSON, for every conformance order and hypothesis-mutated ones; the same rejection wherever
the reference named a source path; and events the canonical model accepts as they are."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas.common.models import Money
from schemas.orders.models import OrderEvent
from services.translator.adapters._common import route
from services.translator.adapters.shopify._plain import checked_money, money
from services.translator.adapters.shopify._wire import ORDER_DECODER
from services.translator.adapters.shopify.orders import orders_of, translate_orders
from services.translator.errors import TranslationError
from services.translator.json_reader import load_json
from tests import shopify_orders_reference as reference
from tests.translate_support import conformance, make_record
from tests.unit.test_translate_properties_channels import mutated

pytestmark = pytest.mark.unit

ORDER_FILES = [
    "api_2024-04_order_create_t16.json",
    "api_2024-04_order_create_t17.json",
    "api_2024-04_order_create_t18.json",
    "api_2024-04_order_get_full.json",
    "python_api_order.json",
    "python_api_orders.json",
]
HEADERS: list[dict[str, str]] = [{}, {"provider_topic": "orders/create", "provider_event_id": "w-1"}]


def _outcome(translate: Any, raw: bytes, headers: dict[str, str]) -> list[OrderEvent] | TranslationError:
    try:
        return list(translate(make_record("shopify", "orders", raw, **headers)))
    except TranslationError as error:
        return error


@route
def _whole(record: Any) -> list[OrderEvent]:
    """The adapter on the whole decoded payload, not only the keys ``shopify/_wire`` declares."""
    return orders_of(record, load_json(record.raw))


Outcome = list[OrderEvent] | TranslationError


def _same_outcome(one: Outcome, other: Outcome) -> bool:
    if isinstance(one, TranslationError) or isinstance(other, TranslationError):
        return (
            isinstance(one, TranslationError)
            and isinstance(other, TranslationError)
            and (one.path, one.expected, one.found) == (other.path, other.expected, other.found)
        )
    return [e.model_dump_json() for e in one] == [e.model_dump_json() for e in other]


def _assert_same(raw: bytes, headers: dict[str, str]) -> None:
    fast = _outcome(translate_orders, raw, headers)
    # Every key the adapter reads is declared in _wire (an undeclared one would read as absent).
    assert _same_outcome(fast, _outcome(_whole, raw, headers))
    slow = _outcome(reference.translate_orders, raw, headers)
    if isinstance(slow, TranslationError):
        assert isinstance(fast, TranslationError), f"reference rejected ({slow}), fast path accepted"
        if not slow.path.startswith("canonical"):
            # A source path: the same one. (Where the reference only had a model error, validated
            # model by model, the fast path may name a source field it reads later, or the
            # model field with its full path: both at least as precise.)
            assert (fast.path, fast.expected, fast.found) == (slow.path, slow.expected, slow.found)
        return
    assert not isinstance(fast, TranslationError), f"fast path rejected ({fast}), reference accepted"
    assert [e.model_dump_json() for e in fast] == [e.model_dump_json() for e in slow]
    for built, constructed in zip(fast, slow, strict=True):
        _assert_same_instances(built, constructed, "event")
    for event in fast:
        assert OrderEvent.model_validate(event.model_dump()) == event
        assert (
            OrderEvent.model_validate_json(event.model_dump_json()).model_dump_json()
            == event.model_dump_json()
        )


def _assert_same_instances(built: Any, validated: Any, where: str) -> None:
    """The records the fast path builds unvalidated (``schemas.base.trusted``) are the validated
    ones: same classes, fields in the same order, same ``model_fields_set``, same value types
    (reprs: Decimal exponents, time zones, enum members)."""
    assert type(built) is type(validated), where
    if isinstance(built, BaseModel):
        assert list(built.__dict__) == list(validated.__dict__), where
        assert built.model_fields_set == validated.model_fields_set, where
        assert (built.__pydantic_extra__, built.__pydantic_private__) == (None, None), where
        assert (validated.__pydantic_extra__, validated.__pydantic_private__) == (None, None), where
        for name, value in built.__dict__.items():
            _assert_same_instances(value, validated.__dict__[name], f"{where}.{name}")
    elif isinstance(built, list | dict):
        assert len(built) == len(validated), where
        pairs = (
            zip(built, validated, strict=True)
            if isinstance(built, list)
            else ((built[key], validated[key]) for key in built)
        )
        for index, (one, other) in enumerate(pairs):
            _assert_same_instances(one, other, f"{where}[{index}]")
    else:
        assert repr(built) == repr(validated), where


@pytest.mark.parametrize("headers", HEADERS, ids=["polled", "webhook"])
@pytest.mark.parametrize("file", ORDER_FILES)
def test_conformance_orders_equal_the_reference(file: str, headers: dict[str, str]) -> None:
    raw = conformance("shopify", file)
    events = translate_orders(make_record("shopify", "orders", raw, **headers))
    assert events
    _assert_same(raw, headers)


@pytest.mark.parametrize("file", ORDER_FILES)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_mutated_orders_equal_the_reference(file: str, data: st.DataObject) -> None:
    _assert_same(data.draw(mutated(conformance("shopify", file))), {})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "199.000001"),
        ("price", "1e999999"),
        ("price", "NaN"),
        ("price", 12),
        ("price", "100000000000000"),
        ("quantity", 10**10),
        ("quantity", True),
        ("id", None),
        ("sku", 1.5),
    ],
)
def test_bad_line_values_are_rejected_like_the_reference(field: str, value: object) -> None:
    data = json.loads(conformance("shopify", "python_api_order.json"))  # legacy: no *_set twins
    data["order"]["line_items"][1][field] = value
    _assert_same(json.dumps(data).encode(), {})


@pytest.mark.parametrize("cancelled", [False, True])
def test_instants_below_a_millisecond_are_cut_like_the_model_cuts_them(cancelled: bool) -> None:
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    data["order"].update(
        created_at="2024-05-01T10:00:00.123456+02:00",
        updated_at="2024-05-01T10:00:00.123999+02:00",  # a later instant, the same millisecond
        closed_at="2024-05-02T00:00:00.000999Z",
        cancelled_at="2024-05-03T08:30:15.50075-05:00" if cancelled else None,
    )
    _assert_same(json.dumps(data).encode(), {})
    (event,) = translate_orders(make_record("shopify", "orders", json.dumps(data).encode()))
    assert event.order.placed_at.microsecond == 123000
    assert event.metadata.occurred_at.microsecond == 123000


def _beyond_the_model_by_sums(where: str) -> bytes:
    """101 amounts just below 10^14 summed by the adapter: beyond decimal(20, 4)."""
    big = "99999999999999.99"
    if where == "shipping":  # legacy payload: total shipping is the sum of the shipping lines
        data = json.loads(conformance("shopify", "python_api_order.json"))
        data["order"]["shipping_lines"] = [{"title": "s", "price": big}] * 101
        return json.dumps(data).encode()
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    line = data["order"]["line_items"][0]
    line.update(price=big, quantity=1, price_set=None, tax_lines=[])
    line["discount_allocations"] = [{"amount": big, "discount_application_index": 0}]
    data["order"]["line_items"] = [{**line, "id": n} for n in range(101)]
    return json.dumps(data).encode()


@pytest.mark.parametrize("where", ["shipping", "discount"])
def test_sums_beyond_the_model_are_canonical_rejections(where: str) -> None:
    raw = _beyond_the_model_by_sums(where)
    _assert_same(raw, {})
    with pytest.raises(TranslationError) as caught:
        translate_orders(make_record("shopify", "orders", raw))
    expected = "totals.shipping" if where == "shipping" else "discounts.0.amount"
    assert caught.value.path == f"canonical order.{expected}.amount"


def test_line_total_beyond_the_model_is_a_canonical_rejection() -> None:
    data = json.loads(conformance("shopify", "python_api_order.json"))
    data["order"]["line_items"][0].update(price="99999999999999.99", quantity=10**9)
    with pytest.raises(TranslationError) as caught:
        translate_orders(make_record("shopify", "orders", json.dumps(data).encode()))
    assert caught.value.path == "canonical order.lines.0.line_total.amount"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("199.00", "USD"), ("-0.5", "EUR"), ("0", "JPY"), ("99999999999999.9999", "KWD"), ("1.", "USD")],
)
def test_checked_money_is_the_validated_money(amount: str, currency: str) -> None:
    made, validated = (
        checked_money(Decimal(amount), currency),
        Money(amount=Decimal(amount), currency=currency),
    )
    assert made == validated
    assert made.model_dump_json() == validated.model_dump_json()  # 4 places, as the validator quantizes
    for attribute in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        assert getattr(made, attribute) == getattr(validated, attribute), attribute
    assert Money.model_validate(made.model_dump()) == made


_COMPUTED = ["9999999999999999.9999", "-9999999999999999.9999", "10000000000000000", "1E+3", "-0.00"]


@pytest.mark.parametrize("amount", [*_COMPUTED, "0.5", "1.00000", "1.00001", "NaN", "Infinity"])
def test_computed_money_is_money_only_where_the_model_would_only_quantize(amount: str) -> None:
    made = money(Decimal(amount), "USD")
    try:
        validated = Money(amount=Decimal(amount), currency="USD")
    except ValidationError:
        assert isinstance(made, dict)  # the canonical model rejects it at its field
        return
    if isinstance(made, dict):
        made = Money.model_validate(made)
    assert made == validated
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.__dict__ == validated.__dict__


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, ensure_ascii=st.booleans())
def test_load_json_reads_what_json_reads(value: Any, ensure_ascii: bool) -> None:
    """msgspec with json as the fallback: the same values, Decimal exponents included."""
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert repr(load_json(text.encode())) == repr(json.loads(text, parse_float=Decimal))


@pytest.mark.parametrize(
    "text",
    ['"\\ud800"', '{"a": NaN}', "1" * 5000, '{"a": 1, "a": 2}', "\ufeff[1.50]", "[1e400, -0, 1E5, 0.1]"],
)
def test_load_json_edge_cases_read_as_json_reads_them(text: str) -> None:
    try:
        expected = repr(json.loads(text.removeprefix("\ufeff"), parse_float=Decimal))
    except ValueError:
        with pytest.raises(TranslationError):
            load_json(text.encode())
        return
    assert repr(load_json(text.encode())) == expected


@pytest.mark.parametrize("file", ORDER_FILES)
def test_conformance_orders_decode_through_the_declared_keys(file: str) -> None:
    """The fast decode (``shopify/_wire``) takes the conformance orders: the tests above run it."""
    document = ORDER_DECODER.decode(conformance("shopify", file))
    whole = json.loads(conformance("shopify", file))
    orders = document.get("orders") or [document.get("order", document)]
    whole_orders = whole.get("orders") or [whole.get("order", whole)]
    assert len(orders) == len(whole_orders)
    for order, whole_order in zip(orders, whole_orders, strict=True):
        assert order["id"] == whole_order["id"]
        assert set(order) < set(whole_order)  # what the adapter does not read is left out
