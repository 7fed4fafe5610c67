"""Store partitions: overlay until commit, TTL, both on-disk backends atomic with their offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bus.config import StateBackend
from bus.state.backends import open_backend
from bus.state.store import StorePartition, _value_encoder, decode_value, encode_value
from bus.testing import MemoryBackend

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", list(StateBackend))
def test_backend_persists_data_with_its_changelog_offset(kind: StateBackend, tmp_path: Path) -> None:
    backend = open_backend(kind, tmp_path)
    backend.write({b"a": b"1", b"b": b"2"}, 10)
    backend.write({b"a": None}, 11)
    backend.close()
    reopened = open_backend(kind, tmp_path)
    assert (reopened.get(b"a"), reopened.get(b"b"), reopened.changelog_offset()) == (None, b"2", 11)
    reopened.clear()
    assert (reopened.get(b"b"), reopened.changelog_offset()) == (None, None)
    reopened.close()


def test_overlay_is_visible_before_commit_and_dropped_on_discard() -> None:
    backend = MemoryBackend()
    store = StorePartition("totals", 3, backend)
    store.put("k", {"total": 5})
    assert store.get("k") == {"total": 5}
    assert backend.data == {}
    store.discard()
    assert store.get("k") is None
    store.put("k", 1)
    store.put("k", 2)
    store.delete("gone")
    changes = store.pending_changes()
    assert changes == {b"k": encode_value(2, None), b"gone": None}  # last write per key wins
    store.commit_to_disk(changes, 42)
    assert not store.dirty
    assert (store.get("k"), backend.offset, "gone" in store) == (2, 42, False)


def test_ttl_entries_expire_on_read_and_are_flagged_for_restore() -> None:
    now = [1_000_000]
    store = StorePartition("seen", 0, MemoryBackend(), ttl=timedelta(seconds=10), clock_ms=lambda: now[0])
    store.put("event-1", True)
    changes = store.pending_changes()
    store.commit_to_disk(changes, 0)
    assert decode_value(changes[b"event-1"] or b"") == (True, 1_010_000)
    assert "event-1" in store
    now[0] = 1_010_000
    assert "event-1" not in store
    assert store.is_expired(changes[b"event-1"])


def test_membership_agrees_with_get_without_decoding() -> None:
    now = [1_000_000]
    store = StorePartition("seen", 0, MemoryBackend(), ttl=timedelta(seconds=10), clock_ms=lambda: now[0])
    store.commit_to_disk(store_changes(store, {"expiring": 3}), 0)
    now[0] = 1_005_000
    store.commit_to_disk({**store_changes(store, {"kept": 1, "null": None, "deleted": 2}), b"gone": None}, 1)
    store.put("overlay-only", 4)
    store.delete("deleted")  # committed, deleted in the overlay
    now[0] = 1_010_000  # "expiring" (committed at 1_000_000, 10 s TTL) has expired, the others not
    keys = ["kept", "null", "deleted", "expiring", "overlay-only", "gone", "absent"]
    missing = object()
    assert {key: key in store for key in keys} == {
        key: store.get(key, missing) is not missing for key in keys
    }
    assert [key for key in keys if key in store] == ["kept", "null", "overlay-only"]


def store_changes(store: StorePartition, values: dict[str, object]) -> dict[bytes, bytes | None]:
    for key, value in values.items():
        store.put(key, value)
    return store.pending_changes()


def test_rocksdb_reads_a_store_written_without_bloom_filters(tmp_path: Path) -> None:
    from rocksdict import Options, Rdict

    options = Options(raw_mode=True)
    options.create_if_missing(True)
    plain = Rdict(str(tmp_path), options)  # as stores were opened before the filters
    plain[b"\x01old"] = b"1"
    plain.flush()  # an SST file without a filter
    plain[b"\x01recent"] = b"2"  # and a memtable entry
    plain.close()
    backend = open_backend(StateBackend.ROCKSDB, tmp_path)
    backend.write({b"new": b"3"}, 5)
    assert [backend.get(key) for key in (b"old", b"recent", b"new", b"missing")] == [b"1", b"2", b"3", None]
    backend.close()


VALUES: list[Any] = [
    None,
    True,
    0,
    -(10**30),
    1.5,
    1e16,
    1e-7,
    float("nan"),
    float("-inf"),
    "",
    'é☃\x00"\\',
    [],
    {},
    {"a": [1, {"b": None, "c": (1, 2)}], "é": "ü"},
    {7: "int key", 2.5: "float key", None: 0, True: 1},
    Decimal("1.10"),  # not JSON: default=str
    {"at": datetime(2026, 1, 1, tzinfo=UTC), "amount": Decimal("3")},
]


@pytest.mark.parametrize("expires_at", [None, 1_767_225_600_000])
def test_a_checkpoints_value_encoder_writes_encode_values_bytes(expires_at: int | None) -> None:
    encode = _value_encoder(expires_at)
    circular: list[Any] = []
    circular.append(circular)
    for value in VALUES:
        assert encode(value) == encode_value(value, expires_at), value
    with pytest.raises(ValueError, match="Circular reference"):
        encode(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        encode_value(circular, expires_at)


def test_pending_changes_are_encode_values_bytes_with_one_expiry_per_checkpoint() -> None:
    store = StorePartition("seen", 0, MemoryBackend(), ttl=timedelta(seconds=10), clock_ms=lambda: 1_000_000)
    for index, value in enumerate(VALUES[:-2]):
        store.put(f"k{index}", value)
    store.delete("k3")
    expected: dict[bytes, bytes | None] = {
        f"k{index}".encode(): encode_value(value, 1_010_000) for index, value in enumerate(VALUES[:-2])
    }
    expected[b"k3"] = None
    assert store.pending_changes() == expected


@pytest.mark.parametrize(
    "body",
    [
        b"1",
        b'{"a":[1,2.5,null,true,"\\u00e9"]}',
        b'"text"',
        b" 1",
        b"1 ",
        b"1 2",
        b"",
        b"{",
        b"\xef\xbb\xbf1",
        b"NaN",
    ],
)
def test_values_decode_as_json_loads_reads_them(body: bytes) -> None:
    import json

    text = body.decode()
    try:
        expected: Any = json.loads(text)
    except ValueError as exc:
        expected = (type(exc), str(exc))
    try:
        got: Any = decode_value(b"\x00" + body)[0]
    except ValueError as exc:
        got = (type(exc), str(exc))
    assert repr(got) == repr(expected)  # repr: NaN equals NaN
