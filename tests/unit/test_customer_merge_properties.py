"""Property: any sequence of records, updates, deletes, steward merges/unmerges and erasures keeps
every source record linked to exactly one golden record (and no golden record empty)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.common.models import Address, SourceRef
from services.customer_merger.books import Books, MemoryStore
from services.customer_merger.engine import MatchEngine
from services.customer_merger.forward import source_record
from services.customer_merger.merge import check_invariants
from services.customer_merger.records import InputKind, MatchInput, SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

pytestmark = pytest.mark.unit

SETTINGS = CustomerMergerSettings()
ADDRESSES = [
    Address(street_lines=["1 Oak St"], city="Salem", postal_code="97301", country_code="US"),
    Address(street_lines=["1 Oak Street"], city="Salem", postal_code="97301", country_code="US"),
    Address(street_lines=["7 Elm Rd"], city="Salem", postal_code="97302", country_code="US"),
]
# Few values, so records collide often: matches, bridges, households and conflicts all happen.
FIRST = ["Ann", "Anne", "Bob", "Ann"]
LAST = ["Lee", "Lea", "Lee"]
EMAILS = [None, "ann@example.com", "ANN@example.com", "bob@example.com"]
PHONES = [None, "503-555-0100", "+15035550100", "503-555-0199"]

records = st.builds(
    lambda slot, first, last, email, phone, address: (
        slot,
        dict(first_name=first, last_name=last, email=email, phone=phone, addresses=address),
    ),
    st.integers(0, 9),
    st.sampled_from(FIRST),
    st.sampled_from(LAST),
    st.sampled_from(EMAILS),
    st.sampled_from(PHONES),
    st.sampled_from([[], [ADDRESSES[0]], [ADDRESSES[1]], [ADDRESSES[2]]]),
)
operations = st.one_of(
    st.tuples(st.just("upsert"), records),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("unmerge"), st.integers(0, 9), st.lists(st.integers(0, 9), min_size=1, max_size=3)),
    st.tuples(st.just("merge"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("erase"), st.integers(0, 9)),
)


def _cid(slot: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"slot/{slot}"))


def _record(slot: int, fields: dict[str, Any]) -> SourceRecord:
    fields = {"first_name": None, "last_name": None, "email": None, "phone": None, "addresses": [], **fields}
    return source_record(
        SETTINGS,
        customer_id=_cid(slot),
        source=SourceRef(
            system=["shopify", "pos", "netsuite"][slot % 3],
            account="a",
            entity="customer",
            native_id=str(slot),
        ),
        company=None,
        is_guest=False,
        updated_at_ms=slot,
        **fields,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=25))
def test_every_source_record_is_linked_to_exactly_one_golden_record(ops: list[tuple[Any, ...]]) -> None:
    store = MemoryStore()
    engine = MatchEngine(SETTINGS)
    live: set[str] = set()
    erased: set[str] = set()

    def golden_of(slot: int) -> str | None:
        entry = store.data.get(f"s:{_cid(slot)}")
        return None if entry is None else str(entry["g"])

    for step, op in enumerate(ops):
        item: MatchInput | None = None
        if op[0] == "upsert":
            slot, fields = op[1]
            item = MatchInput(
                kind=InputKind.CUSTOMER, event_id=str(step), occurred_at_ms=0, record=_record(slot, fields)
            )
            if _cid(slot) not in erased:
                live.add(_cid(slot))
        elif op[0] == "delete" and _cid(op[1]) in live:
            item = MatchInput(
                kind=InputKind.CUSTOMER_DELETED,
                event_id=str(step),
                occurred_at_ms=0,
                record=_record(op[1], {}),
            )
            live.discard(_cid(op[1]))
        elif op[0] == "unmerge" and golden_of(op[1]):
            item = MatchInput(
                kind=InputKind.STEWARD_UNMERGE,
                event_id=str(step),
                occurred_at_ms=0,
                golden_id=golden_of(op[1]),
                customer_ids=[_cid(s) for s in op[2]],
            )
        elif op[0] == "merge" and golden_of(op[1]) and golden_of(op[2]):
            item = MatchInput(
                kind=InputKind.STEWARD_MERGE,
                event_id=str(step),
                occurred_at_ms=0,
                golden_id=golden_of(op[1]),
                other_golden_ids=[golden_of(op[2]) or ""],
            )
        elif op[0] == "erase":
            golden = golden_of(op[1])
            members = set(store.data[f"g:{golden}"]["m"]) if golden else set()
            item = MatchInput(
                kind=InputKind.ERASURE, event_id=str(step), occurred_at_ms=0, erase_customer_ids=[_cid(op[1])]
            )
            erased |= members | {_cid(op[1])}
            live -= members | {_cid(op[1])}
        if item is None:
            continue
        books = Books(store, "merger")
        engine.apply(item, books)
        store.apply(books.changes())
        assert check_invariants(store.data) == []
        linked = {key[2:] for key in store.data if key.startswith("s:")}
        assert linked == live
        members = [m for key, value in store.data.items() if key.startswith("g:") for m in value["m"]]
        assert sorted(members) == sorted(live)  # each exactly once
