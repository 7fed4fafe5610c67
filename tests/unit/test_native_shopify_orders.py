"""The compiled Shopify orders fast path (``native/``, module ``esb_native``) against the Python
adapter, which stays the reference: for any bytes, ``shopify_orders`` returns None (the Python path
decides) or exactly what the Python path produces — canonical and native ids, the instants at full
precision, and the Avro body of ``event.order`` as fastavro writes it. Where the Python path
rejects a payload the compiled one declines. The common shapes (the conformance orders, the
benchmark's orders) must not decline: they are the point of the fast path."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from esb_native import shopify_orders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.shopify_orders import shopify_order_body
from schemas.loader import parsed_schema
from schemas.orders.models import OrderEvent
from services.translator.adapters import _fields as f
from services.translator.adapters.shopify._wire import ORDER_DECODER
from services.translator.adapters.shopify.orders import translate_orders
from services.translator.ingress import IngressRecord
from services.translator.json_reader import load_json
from tests.translate_support import RECEIVED_AT, conformance
from tests.unit.test_translate_properties_channels import mutated
from tests.unit.test_translate_shopify_orders_fast import ORDER_FILES

pytestmark = pytest.mark.unit

ACCOUNT = "acme"
_ORDER_SCHEMA = parsed_schema("com.esb.canonical.orders.Order")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row = tuple[str, str, int, int | None, int | None, int | None, bytes]


def _micros(instant: datetime | None) -> int | None:
    if instant is None:
        return None
    delta = instant - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds


def _avro(event: OrderEvent) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _ORDER_SCHEMA, event.order.to_avro())
    return buffer.getvalue()


def _reference(raw: bytes, account: str = ACCOUNT) -> list[Row] | None:
    """What the Python path makes of ``raw``, as ``shopify_orders`` returns it; None if it raises."""
    record = IngressRecord(
        raw=raw, system="shopify", entity="orders", account=account, received_at=RECEIVED_AT
    )
    try:
        events = translate_orders(record)
    except Exception:  # a rejection (TranslationError), or anything else: the compiled path declines
        return None
    nodes = f.unwrap(load_json(raw, typed=ORDER_DECODER), "order", "orders")
    rows: list[Row] = []
    for event, (value, path) in zip(events, nodes, strict=True):
        node = f.obj(value, path)
        placed_at = _micros(f.timestamp(node, "created_at", path))
        assert placed_at is not None
        rows.append(
            (
                str(event.order.order_id),
                event.order.native_id,
                placed_at,
                _micros(f.opt_timestamp(node, "updated_at", path)),
                _micros(f.opt_timestamp(node, "cancelled_at", path)),
                _micros(f.opt_timestamp(node, "closed_at", path)),
                _avro(event),
            )
        )
    return rows


def _check(raw: bytes, *, must_accept: bool = False, account: str = ACCOUNT) -> list[Row] | None:
    native = shopify_orders(raw, "shopify", account)
    if native is None:
        assert not must_accept, "declined a common shape"
        return None
    expected = _reference(raw, account)
    assert expected is not None, "the Python path rejects this payload, the compiled one accepted it"
    assert [row[:6] for row in native] == [row[:6] for row in expected]
    for got, want in zip(native, expected, strict=True):
        assert got[6] == want[6], f"Avro bodies differ at byte {_first_difference(got[6], want[6])}"
    return native


def _first_difference(one: bytes, other: bytes) -> int:
    return next(
        (i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other))
    )


def bench_order(order_id: int, lines: int) -> bytes:
    """``benchmarks/translator.py``'s webhook body: the full conformance order, varied ids, lines."""
    order = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))["order"]
    return shopify_order_body(order, order_id, lines)


@pytest.mark.parametrize("file", ORDER_FILES)
def test_conformance_orders_are_the_python_paths(file: str) -> None:
    rows = _check(conformance("shopify", file), must_accept=True)
    assert rows


@pytest.mark.parametrize("lines", [1, 3, 7, 12])
@pytest.mark.parametrize("order_id", [5_000_000_001, 5_000_123_457])
def test_benchmark_orders_are_the_python_paths(order_id: int, lines: int) -> None:
    rows = _check(bench_order(order_id, lines), must_accept=True, account="bench-shop.myshopify.com")
    assert rows is not None
    assert rows[0][1] == str(order_id)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_escaped_and_unicode_text_is_the_python_paths(ensure_ascii: bool) -> None:
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    order = data["order"]
    order.update(
        note='Léon\u00a0— «rush»\n"quoted"\\ \U0001f600',
        tags=" Noël ,\u3000vip,\u2028, ,x\u00a0",
        created_at=" 2024-05-01T10:00:00.123456+02:00 ",
        updated_at="2024-05-01 10:00:00.1239-02:30",
        closed_at="2024-05-02T00:00:00.000999Z",
        cancel_reason="",
    )
    order["id"] = 'gid://shopify/Order/\u00e9"1\\'
    order["customer"]["id"] = " 207119551\t"
    order["line_items"][0]["title"] = "\u3000"
    order["line_items"][0]["name"] = "Ünïcode \u0000 name"
    order["line_items"][0]["properties"].append({"name": "Custom Engraving Front", "value": 7})
    order["note_attributes"] = [{"name": "a", "value": None}, {"name": 5, "value": "ß"}]
    _check(json.dumps(data, ensure_ascii=ensure_ascii).encode(), must_accept=True)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"null",
        b"[]",
        b"{}",
        b'{"order": []}',
        b'{"orders": []}',
        b'{"orders": [1]}',
        b"[" * 100_000,
        b'{"order": ' * 70 + b"{}" + b"}" * 70,
        b"\xff\xfe",
        b'{"order": {"id": 1' + b"9" * 5000 + b"}}",
        b'{"order": {"id": "\\ud800"}}',
        b'{"order": {"id": 1, "id": 2}}',
        b'{"order": {"id": NaN}}',
        b"\xef\xbb\xbf" + conformance("shopify", "python_api_order.json"),
        conformance("shopify", "python_api_order.json") + b" x",
        conformance("shopify", "python_api_order.json")[:-3],
    ],
)
def test_odd_bodies_decline_or_equal_the_python_path(raw: bytes) -> None:
    _check(raw)


def test_other_arguments_decline_without_raising() -> None:
    raw = conformance("shopify", "python_api_order.json")
    assert shopify_orders(bytearray(raw), "shopify", ACCOUNT) is None  # type: ignore[arg-type]
    assert shopify_orders(raw.decode(), "shopify", ACCOUNT) is None  # type: ignore[arg-type]
    assert shopify_orders(raw, "shopify", "\ud800") is None
    assert shopify_orders(raw, "shopify", " ") is None  # a blank id part: a rejection in Python
    assert _reference(raw, " ") is None


_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@pytest.mark.parametrize("file", ORDER_FILES)
@_SETTINGS
@given(data=st.data())
def test_mutated_orders_decline_or_equal_the_python_path(file: str, data: st.DataObject) -> None:
    _check(data.draw(mutated(conformance("shopify", file))))


# Values for the keys the adapter reads, near the rules' edges.
_AMOUNTS = st.one_of(
    st.sampled_from(
        [
            *("0", "-0.00", "1.", "12.3456", "12.34567", "199.000", "99999999999999.9999", "100000000000000"),
            *("-99999999999999.99", "1e3", " 1.00", "+1", "1_000", "\u0661", "", "NaN", "0.1e1"),
        ]
    ),
    st.integers(0, 6).flatmap(
        lambda places: st.decimals(min_value=-(10**15), max_value=10**15, places=places).map(str)
    ),
    st.integers(-(10**16), 10**16),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
_CURRENCIES = st.sampled_from(["USD", "EUR", "usd", "US", "USDX", " USD", "ÉUR", "", None, 840])
_OFFSETS = st.sampled_from(["Z", "+00:00", "-05:00", "+05:30", "+14:00", "-23:59", "+0530", "+05", "z", ""])


@st.composite
def _instants(draw: st.DrawFn) -> Any:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    digits = draw(st.integers(0, 8))
    fraction = "" if digits == 0 else "." + f"{moment.microsecond:06d}{draw(st.integers(0, 99)):02d}"[:digits]
    separator = draw(st.sampled_from(["T", " ", "t"]))
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction + draw(_OFFSETS)
    return draw(st.sampled_from([text, f" {text}\n", text.replace("-", "/"), text[:-1]]))


_TEXTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "\u3000", "\u200b", "line_item", "shipping_line", "refund", "success", "paid"]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
_BY_KEY: dict[str, st.SearchStrategy[Any]] = {
    "amount": _AMOUNTS,
    "price": _AMOUNTS,
    "subtotal_price": _AMOUNTS,
    "total_price": _AMOUNTS,
    "current_total_price": _AMOUNTS,
    "currency": _CURRENCIES,
    "currency_code": _CURRENCIES,
    "presentment_currency": _CURRENCIES,
    "created_at": _instants(),
    "updated_at": _instants(),
    "cancelled_at": _instants(),
    "closed_at": _instants(),
    "quantity": st.one_of(st.integers(-(10**10), 10**10), st.sampled_from(["2", 2.0, True, None])),
    "fulfillable_quantity": st.one_of(st.integers(-5, 5), st.sampled_from(["2", 2.5, None])),
    "rate": st.one_of(
        st.floats(min_value=-1, max_value=150, allow_nan=False),
        st.sampled_from([0, 100, 101, "0.06", -0.0, 1e-11, 0.00000000005, 0.00000000015]),
    ),
    "discount_application_index": st.one_of(st.integers(-2, 3), st.sampled_from([10**30, "0", 0.0, True])),
    "requires_shipping": st.one_of(st.booleans(), st.sampled_from(["true", 1, None])),
    "taxes_included": st.one_of(st.booleans(), st.sampled_from(["false", 0, None])),
}
_READ = {"id", "name", "title", "sku", "code", "email", "tags", "note", "value", "kind", "status", "type"}
_READ |= {
    "target_type",
    "financial_status",
    "fulfillment_status",
    "cancel_reason",
    "zip",
    "phone",
    "address1",
}
_READ |= {"first_name", "last_name", "country_code", "province_code", "carrier_identifier", "source"}


def _keyed_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key in _BY_KEY or key in _READ:
                found.append((*prefix, key))
            found.extend(_keyed_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_keyed_paths(child, (*prefix, index)))
    return found


@st.composite
def _targeted(draw: st.DrawFn, raw: bytes) -> bytes:
    """1-4 keys the adapter reads set to values near its rules' edges; sometimes the raw text
    altered (a duplicated key, a byte order mark, a cut)."""
    document = json.loads(raw)
    paths = _keyed_paths(document)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        parent[key] = draw(_BY_KEY.get(key, _TEXTS))
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    edit = draw(st.sampled_from(["none", "none", "none", "duplicate", "bom", "cut", "escape"]))
    if edit == "duplicate":
        key = draw(st.sampled_from(['"id"', '"price"', '"currency"', '"amount"', '"title"']))
        at = text.find(key + ":")
        if at >= 0:
            text = text[:at] + key + ': "1.00", ' + text[at:]
    elif edit == "escape":  # a key spelled with an escape is the same key
        text = text.replace('"currency"', '"\\u0063urrency"', 1)
    data = text.encode()
    if edit == "bom":
        data = b"\xef\xbb\xbf" + data
    elif edit == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return data


@pytest.mark.parametrize("file", ORDER_FILES)
@_SETTINGS
@given(data=st.data())
def test_edge_values_decline_or_equal_the_python_path(file: str, data: st.DataObject) -> None:
    _check(data.draw(_targeted(conformance("shopify", file))))


@st.composite
def _byte_edits(draw: st.DrawFn, raw: bytes) -> bytes:
    """Bytes inserted, replaced or removed anywhere: the reader must decline or agree."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "replace", "delete"]))
        chunk = draw(
            st.sampled_from(
                [b'"', b"\\", b",", b":", b"{", b"]", b" ", b"0", b"-", b"e", b"\x00", b"\xc3\xa9"]
            )
        )
        if kind == "insert":
            data[at:at] = chunk
        elif kind == "replace":
            data[at : at + len(chunk)] = chunk
        else:
            del data[at : at + draw(st.integers(1, 8))]
    return bytes(data)


@pytest.mark.parametrize("file", ["api_2024-04_order_get_full.json", "python_api_orders.json"])
@_SETTINGS
@given(data=st.data())
def test_byte_edits_decline_or_equal_the_python_path(file: str, data: st.DataObject) -> None:
    _check(data.draw(_byte_edits(conformance("shopify", file))))


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_arbitrary_bytes_decline_or_equal_the_python_path(raw: bytes) -> None:
    _check(raw)


def _multi_currency(order: dict[str, Any]) -> None:
    """Presentment amounts in EUR: presentment totals and discount sums of their own."""

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            present = value.get("presentment_money")
            if isinstance(present, dict):
                value["presentment_money"] = {"amount": f"{present['amount']}1", "currency_code": "EUR"}
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(order)
    order["presentment_currency"] = "EUR"


_VARIANTS: dict[str, Any] = {
    "legacy discount codes": lambda o: o.pop("discount_applications"),
    "legacy shipping total": lambda o: o.pop("total_shipping_price_set"),
    "no twins": lambda o: [line.pop("price_set") for line in o["line_items"]],
    "refund in another currency": lambda o: o["refunds"][0]["transactions"][0].update(currency="EUR"),
    "refund not a success": lambda o: o["refunds"][0]["transactions"][0].update(status="failure"),
    "no refunds": lambda o: o.update(refunds=[]),
    "allocation index null": lambda o: o["line_items"][0]["discount_allocations"][0].update(
        discount_application_index=None
    ),
    "allocation index out of range": lambda o: o["line_items"][1]["discount_allocations"][0].update(
        discount_application_index=7
    ),
    "multi-currency": _multi_currency,
    "guest": lambda o: o.update(customer=None),
    "no customer at all": lambda o: o.update(customer=None, email="  ", contact_email=None),
    "cancelled": lambda o: o.update(cancelled_at="2024-05-03T08:30:15.50075-05:00", cancel_reason="fraud"),
    "only a cancel reason": lambda o: o.update(cancel_reason=""),
    "closed": lambda o: o.update(closed_at="2024-05-03T08:30:15Z", financial_status=" paid"),
    "empty address": lambda o: o.update(billing_address={}, shipping_address=None),
    "address without a name": lambda o: o["billing_address"].update(name=None, last_name=" "),
    "address of numbers": lambda o: o["billing_address"].update(zip=40202, phone=-5, address1=""),
    "statuses": lambda o: o.update(financial_status="voided", fulfillment_status="restocked"),
    "unknown statuses": lambda o: o.update(financial_status=7, fulfillment_status=""),
    "line flags": lambda o: o["line_items"][0].update(
        requires_shipping=None, fulfillable_quantity=None, sku="", variant_id=None, title=None
    ),
    "repeated property names": lambda o: o["line_items"][0]["properties"].append(
        {"name": "Custom Engraving Front", "value": "again"}
    ),
    "tax rates": lambda o: [
        tax.update(rate=rate)
        for line, rate in zip(o["line_items"], [0, 0.175, 100], strict=True)
        for tax in line["tax_lines"]
    ],
    "taxes included": lambda o: o.update(taxes_included=True, tags="a,, b ,a"),
    "shipping without title": lambda o: o["shipping_lines"][0].update(title=None, carrier_identifier="ups"),
    "negative and zero amounts": lambda o: o.update(total_outstanding="-0.00", current_total_price=None),
}


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_order_variants_are_the_python_paths(variant: str) -> None:
    data = json.loads(conformance("shopify", "api_2024-04_order_get_full.json"))
    _VARIANTS[variant](data["order"])
    raw = json.dumps(data).encode()
    assert _reference(raw) is not None, "the variant is a payload the adapter translates"
    _check(raw, must_accept=True)


@pytest.mark.parametrize("account", ["acme", " Åcme shop ", 'a"b\\c', "x\ty"])
def test_accounts_in_ids_are_the_python_paths(account: str) -> None:
    _check(conformance("shopify", "api_2024-04_order_get_full.json"), must_accept=True, account=account)
