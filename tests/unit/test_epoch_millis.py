"""``schemas.base.epoch_millis``: exact milliseconds since the epoch, as Avro's timestamp-millis."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.base import epoch_millis

pytestmark = pytest.mark.unit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLIS = st.integers(min_value=-(10**12), max_value=253_402_214_399_999)  # a day before 10000-01-01
SCHEMA = fastavro.parse_schema({"type": "long", "logicalType": "timestamp-millis"})


@given(MILLIS, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_every_millisecond_instant_is_its_own_count_in_any_offset(millis: int, offset_minutes: int) -> None:
    instant = (EPOCH + timedelta(milliseconds=millis)).astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert epoch_millis(instant) == millis


@given(MILLIS, st.integers(min_value=0, max_value=999))
def test_sub_millisecond_instants_floor_as_avro_writes_them(millis: int, micros: int) -> None:
    instant = EPOCH + timedelta(milliseconds=millis, microseconds=micros)
    written = io.BytesIO()
    fastavro.schemaless_writer(written, SCHEMA, instant)
    written.seek(0)
    assert epoch_millis(instant) == millis
    assert fastavro.schemaless_reader(written, SCHEMA) == EPOCH + timedelta(
        milliseconds=epoch_millis(instant)
    )


def test_the_float_route_merges_adjacent_milliseconds_and_this_does_not() -> None:
    # 1978-09-11T17:53:31.006Z is one: the float route makes it .005, merged with its neighbour.
    merged = [
        n
        for n in range(274_358_011_000, 274_358_012_000)
        if int((EPOCH + timedelta(milliseconds=n)).timestamp() * 1000) != n
    ]
    assert merged  # the defect this replaces is real on this range
    assert all(epoch_millis(EPOCH + timedelta(milliseconds=n)) == n for n in merged)
