"""The SKU stage's paged backlog: bounded writes per record, FIFO kept, old records migrated."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.service import Emit, Outgoing, StateDelete, StatePut
from services.order_router import backorders
from services.order_router.backorders import Backlog, Waiting, line_key, page_key
from services.order_router.messages import (
    AllocateCommand,
    LevelUpdate,
    LineAsk,
    LineBackorder,
    ReleaseCommand,
    RestockedReply,
)
from services.order_router.rules import Policy
from services.order_router.sku_stage import SKUS, SkuStage
from tests.order_router_sim import MemoryContext, _View
from tests.unit import test_order_router_interleavings as interleavings

pytestmark = pytest.mark.unit

STAGE = SkuStage("by-order", "reservations")
Stores = dict[str, dict[str, str]]


@contextmanager
def page_size(size: int) -> Iterator[None]:
    with (
        mock.patch.object(backorders, "PAGE_SIZE", size),
        mock.patch.object(backorders, "_MERGE_BELOW", size // 2 + 1),
    ):
        yield


def _apply(stores: Stores, out: Sequence[Outgoing]) -> None:
    for item in out:
        if isinstance(item, StatePut):
            stores[item.store][item.key] = json.dumps(item.value)
        elif isinstance(item, StateDelete):
            stores[item.store].pop(item.key, None)


def _order(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"order-{n}"))


def _allocate(n: int, units: int = 2) -> AllocateCommand:
    return AllocateCommand(
        request_id=f"alloc-{n}",
        order_id=_order(n),
        sku="A",
        at_ms=1_000 + n,
        placed_at_ms=1_000 + n,
        causation_id=f"c-{n}",
        correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"corr-{n}")),
        lines=(LineAsk(line_id="1", quantity=units, locations=("WH-A", "WH-B")),),
        policy=Policy.RANKED,
    )


def _backlog(stores: Stores) -> list[Waiting]:
    return Backlog(SKUS, "A", _View(stores[SKUS]), json.loads(stores[SKUS]["A"])).entries()


def _fills(out: Sequence[Outgoing]) -> list[RestockedReply]:
    bodies = [getattr(o.value, "body", None) for o in out if isinstance(o, Emit) and o.topic == "by-order"]
    return [b for b in bodies if isinstance(b, RestockedReply)]


def _puts(out: Sequence[Outgoing]) -> list[int]:
    return [len(json.dumps(o.value)) for o in out if isinstance(o, StatePut)]


def test_a_record_of_a_sku_with_thousands_waiting_writes_a_bounded_number_of_bytes() -> None:
    stores: Stores = defaultdict(dict)
    lines = 3_000
    for n in range(lines):  # no stock anywhere: every line waits
        _apply(stores, STAGE.allocate(_allocate(n), MemoryContext(stores)))
    assert len(_backlog(stores)) == lines
    old_format = len(json.dumps([w.to_json() for w in _backlog(stores)]))
    assert old_format > 300_000  # what every record of this SKU wrote before paging

    records: list[list[Outgoing]] = []
    for n in range(lines, lines + 20):  # later placements join the tail
        records.append(list(STAGE.allocate(_allocate(n), MemoryContext(stores))))
        _apply(stores, records[-1])
    middle = ReleaseCommand(
        request_id="give-up",
        order_id=_order(1_500),
        sku="A",
        at_ms=9_000,
        placed_at_ms=2_500,
        causation_id="c",
        correlation_id="c",
        releases=(),
        backorders=(LineBackorder(line_id="1", quantity=2),),
    )
    records.append(list(STAGE.release(middle, MemoryContext(stores))))
    _apply(stores, records[-1])
    receipt = LevelUpdate(sku="A", location="WH-B", on_hand=7, reserved=0, revision=1, at_ms=10_000)
    records.append(list(STAGE.level(receipt, MemoryContext(stores))))
    _apply(stores, records[-1])
    fills = _fills(records[-1])
    # the head is served first: orders 0, 1, 2 take 2 each, order 3 the last unit
    assert [(f.order_id, sum(p.quantity for p in f.placed)) for f in fills] == [
        (_order(0), 2),
        (_order(1), 2),
        (_order(2), 2),
        (_order(3), 1),
    ]

    largest = max(size for record in records for size in _puts(record))
    per_record = max(sum(_puts(record)) for record in records)
    # a page (64 lines) or the SKU record with the page index (~50 pages), never the whole backlog
    assert largest < 10_000, largest
    assert per_record < 16_000, per_record
    waiting = {(w.order_id, w.line_id): w.units for w in _backlog(stores)}
    assert len(waiting) == lines + 20 - 1 - 3
    assert waiting[(_order(3), "1")] == 1
    assert (_order(1_500), "1") not in waiting
    keys = [w.key() for w in _backlog(stores)]
    assert keys == sorted(keys)


def test_an_old_record_with_the_whole_backlog_inside_is_read_and_migrated_on_its_next_write() -> None:
    entries = [Waiting(_order(n), "1", 2, ("WH-A",), 1_000 + n, "corr") for n in range(150)]
    stores: Stores = defaultdict(dict)
    stores[SKUS]["A"] = json.dumps(
        {"lv": {}, "own": {}, "bo": [w.to_json() for w in reversed(entries)], "fs": 4}  # pre-paging form
    )
    receipt = LevelUpdate(sku="A", location="WH-A", on_hand=3, reserved=0, revision=1, at_ms=5_000)
    out = STAGE.level(receipt, MemoryContext(stores))
    assert [(f.order_id, sum(p.quantity for p in f.placed)) for f in _fills(out)] == [
        (_order(0), 2),
        (_order(1), 1),
    ]
    _apply(stores, out)
    record = json.loads(stores[SKUS]["A"])
    assert "bo" not in record
    assert record["fs"] == 6
    assert sum(p[4] for p in record["bi"]["p"]) == 149  # order 0 filled, order 1 waits for 1 more
    migrated = _backlog(stores)
    assert [(w.order_id, w.units) for w in migrated[:2]] == [(_order(1), 1), (_order(2), 2)]
    assert [w.key() for w in migrated] == [w.key() for w in entries[1:]]
    # every migrated line can be found again by its pointer: a give-up takes it out
    give_up = ReleaseCommand(
        request_id="give-up",
        order_id=_order(120),
        sku="A",
        at_ms=9_000,
        placed_at_ms=1_120,
        causation_id="c",
        correlation_id="c",
        releases=(),
        backorders=(LineBackorder(line_id="1", quantity=5),),
    )
    _apply(stores, STAGE.release(give_up, MemoryContext(stores)))
    assert (_order(120), "1") not in {(w.order_id, w.line_id) for w in _backlog(stores)}
    assert line_key("A", _order(120), "1") not in stores[SKUS]


Op = tuple[str, int, int, int]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(0, 30), st.integers(0, 40), st.integers(1, 3)),
        st.tuples(st.just("wait"), st.integers(0, 30), st.integers(0, 40), st.integers(1, 3)),
        st.tuples(st.just("give_up"), st.integers(0, 30), st.integers(1, 4), st.just(0)),
        st.tuples(st.just("commit"), st.just(0), st.just(0), st.just(0)),
    ),
    min_size=10,
    max_size=150,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
def test_the_paged_backlog_behaves_like_one_sorted_list(script: list[Op]) -> None:
    """Against the former single list: same entries, same order; pages, index and pointers agree."""
    reference: dict[tuple[str, str], Waiting] = {}
    store: dict[str, str] = {}
    record: dict[str, object] = {}

    def check() -> None:
        backlog = Backlog(SKUS, "A", _View(store), record)
        assert [(w.order_id, w.units) for w in backlog.entries()] == [
            (w.order_id, w.units) for w in sorted(reference.values())
        ]
        pages = {k for k in store if k.startswith('["backlog-page", "A"')}
        index = record["bi"]["p"]  # type: ignore[index]
        assert pages == {page_key("A", p[0]) for p in index}
        for p in index:
            entries = json.loads(store[page_key("A", p[0])])
            assert 0 < len(entries) == p[4] <= backorders.PAGE_SIZE
            assert [p[1], p[2], p[3]] == [entries[0][4], entries[0][0], entries[0][1]]
            assert sorted(p[5]) == sorted({loc for e in entries for loc in e[3]})
            for e in entries:
                assert json.loads(store[line_key("A", e[0], e[1])]) == p[0]
        assert sum(1 for k in store if k.startswith('["backlog-line"')) == len(reference)

    with page_size(4):
        backlog = Backlog(SKUS, "A", _View(store), record)
        for kind, order, a, b in [*script, ("commit", 0, 0, 0)]:
            if kind == "wait":
                entry = Waiting(f"o{order:02}", "1", b, (f"L{a % 3}",), a * 10, "c")
                backlog.wait(replace(entry))  # the reference keeps its own copy
                known = reference.get((entry.order_id, "1"))
                if known is None:
                    reference[(entry.order_id, "1")] = entry
                else:
                    known.units += b
                    known.locations = entry.locations
            elif kind == "give_up":
                backlog.give_up(f"o{order:02}", "1", a)
                known = reference.get((f"o{order:02}", "1"))
                if known is not None:
                    known.units -= min(a, known.units)
                    if known.units == 0:
                        del reference[(known.order_id, "1")]
            else:
                for item in backlog.outputs():
                    if isinstance(item, StatePut):
                        store[item.key] = json.dumps(item.value)
                    elif isinstance(item, StateDelete):
                        store.pop(item.key, None)
                record = {"bi": backlog.to_json()}
                check()
                backlog = Backlog(SKUS, "A", _View(store), record)


@pytest.mark.parametrize("size", [1, 2])
def test_the_interleavings_hold_with_tiny_pages(size: int) -> None:
    """The property test of the whole router with pages of one or two lines: a page per few lines."""
    with page_size(size):
        interleavings.test_the_router_never_reserves_beyond_the_stock_it_has_seen()


class _CountingView(_View):
    def __init__(self, data: dict[str, str]) -> None:
        super().__init__(data)
        self.read: list[str] = []

    def get(self, key: str, default: object = None) -> object:
        self.read.append(key)
        return super().get(key, default)


def test_a_fill_reads_only_pages_with_lines_waiting_where_stock_arrived_and_keeps_fifo_there() -> None:
    stores: Stores = defaultdict(dict)
    with page_size(2):
        for n in range(23):  # orders 0..19 wait at WH-A only (10 pages), 20..22 at WH-B only
            where = ("WH-A",) if n < 20 else ("WH-B",)
            command = _allocate(n).model_copy(
                update={"lines": (LineAsk(line_id="1", quantity=2, locations=where),)}
            )
            _apply(stores, STAGE.allocate(command, MemoryContext(stores)))
        view = _CountingView(stores[SKUS])
        receipt = LevelUpdate(sku="A", location="WH-B", on_hand=3, reserved=0, revision=1, at_ms=10_000)

        class _Ctx(MemoryContext):
            def state(self, store: str) -> _View:
                return view if store == SKUS else super().state(store)

        out = STAGE.level(receipt, _Ctx(stores))
    assert [(f.order_id, sum(p.quantity for p in f.placed)) for f in _fills(out)] == [
        (_order(20), 2),
        (_order(21), 1),
    ]
    pages_read = [k for k in view.read if k.startswith('["backlog-page"')]
    assert len(pages_read) <= 2, pages_read  # the tail pages with WH-B lines, not the 10 WH-A pages
