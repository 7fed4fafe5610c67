"""The fold's ordering and duplicate rules, one rule per test."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from bus.errors import DeadLetterError
from bus.state.store import decode_value, encode_value
from schemas.inventory.models import MovementKind as K
from schemas.inventory.models import ReservationKind as R
from services.inventory_projector.fold import (
    AlertKind,
    Count,
    Delta,
    FoldLimits,
    Position,
    Reservation,
    ReservationChange,
    ReservationOp,
    apply_count,
    apply_delta,
    apply_reservation,
)
from services.inventory_projector.handler import make_handler
from tests.inventory_support import Driver, movement, reservation, settings

pytestmark = pytest.mark.unit

LIMITS = FoldLimits()


def _driver(**overrides: object) -> Driver:
    config = settings(**overrides)
    return Driver(make_handler(config), config)


def test_deltas_add_up_and_a_repeated_movement_id_counts_once() -> None:
    driver = _driver()
    receipt = movement(K.RECEIPT, 10, at=1)
    driver.feed([receipt, movement(K.SHIPMENT, -3, at=2), receipt])
    assert driver.position().on_hand == 7
    assert len(driver.on("levels")) == 2  # the repeat changed nothing, so published nothing


def test_an_older_count_never_overwrites_a_newer_one() -> None:
    driver = _driver()
    driver.feed([movement(K.ABSOLUTE_COUNT, 50, at=200), movement(K.ABSOLUTE_COUNT, 80, at=100)])
    assert driver.position().on_hand == 50


def test_counts_of_the_same_instant_are_ordered_by_source_sequence() -> None:
    driver = _driver()
    driver.feed(
        [
            movement(K.ABSOLUTE_COUNT, 9, at=100, sequence=2),
            movement(K.ABSOLUTE_COUNT, 4, at=100, sequence=1),
        ]
    )
    assert driver.position().on_hand == 9


def test_a_delta_older_than_the_newest_count_is_absorbed_by_it() -> None:
    """The documented rule for deltas that arrive after a newer absolute count."""
    driver = _driver()
    driver.feed([movement(K.ABSOLUTE_COUNT, 40, at=100), movement(K.SHIPMENT, -5, at=90)])
    assert driver.position().on_hand == 40
    # ...while a delta after the count applies on top of it.
    driver.feed([movement(K.SHIPMENT, -5, at=110)])
    assert driver.position().on_hand == 35


def test_a_late_count_is_rebased_under_deltas_that_happened_after_it() -> None:
    driver = _driver()
    driver.feed(
        [
            movement(K.RECEIPT, 10, at=50),  # before the count: absorbed once the count arrives
            movement(K.SHIPMENT, -2, at=150),  # after the count: kept on top of it
            movement(K.ABSOLUTE_COUNT, 30, at=100),
        ]
    )
    assert driver.position().on_hand == 28


def test_a_count_older_than_the_settled_horizon_is_ignored_with_an_alert() -> None:
    limits = FoldLimits(reorder_window_ms=1000, reorder_max_buckets=128)
    position = apply_delta(Position(), Delta("a", 100, 5), limits)
    position = apply_delta(position, Delta("b", 5000, 1), limits)  # settles the bucket at 100
    assert position.settled_through == 100
    stale, alerts = apply_count(position, Count("c", 50, -1, 99), limits)
    assert stale == position
    assert [alert.kind for alert in alerts] == [AlertKind.STALE_COUNT]
    rebased, _ = apply_count(position, Count("d", 200, -1, 20), limits)
    assert rebased.on_hand == 21  # the count at 200 plus the delta at 5000


def test_a_reservation_stamped_much_later_does_not_settle_the_movements() -> None:
    """The reorder window runs on movement time: a reservation from another clock must not make a
    later-arriving count look stale."""
    rid = uuid.uuid4()
    driver = _driver(reorder_window_ms=1000)
    driver.feed(
        [
            reservation(R.RESERVE, 1, at=10**9, reservation_id=rid),
            movement(K.SHIPMENT, -3, at=200),
            movement(K.ABSOLUTE_COUNT, 80, at=100),
        ]
    )
    assert (driver.position().on_hand, driver.position().reserved) == (77, 1)
    assert "STALE_COUNT" not in {alert.kind for alert in driver.on("alerts")}


def test_bucket_limit_settles_the_oldest_instants_without_changing_on_hand() -> None:
    limits = FoldLimits(reorder_max_buckets=3)
    position = Position()
    for at in range(10):
        position = apply_delta(position, Delta(str(at), at, 1), limits)
    assert position.on_hand == 10
    assert len(position.buckets) == 3
    assert position.base_qty + sum(q for _, q in position.buckets) == position.on_hand


def test_count_drift_beyond_the_threshold_raises_an_alert() -> None:
    limits = FoldLimits(drift_threshold=2)
    position = apply_delta(Position(), Delta("r", 10, 100), limits)
    _, small = apply_count(position, Count("c1", 20, -1, 98), limits)
    assert small == []
    _, large = apply_count(position, Count("c2", 20, -1, 90), limits)
    assert [(a.kind, a.expected, a.counted, a.drift) for a in large] == [
        (AlertKind.COUNT_DRIFT, 100, 90, -10)
    ]


def test_the_first_count_of_an_untouched_position_is_no_drift() -> None:
    _, alerts = apply_count(Position(), Count("c", 1, -1, 500), FoldLimits())
    assert alerts == []


def test_reservations_reserve_release_commit_and_ignore_repeats() -> None:
    rid = uuid.uuid4()
    driver = _driver()
    reserve = reservation(R.RESERVE, 4, at=1, reservation_id=rid)
    driver.feed(
        [
            movement(K.RECEIPT, 10, at=0),
            reserve,
            reserve,
            reservation(R.RELEASE, 1, at=2, reservation_id=rid),
        ]
    )
    assert (driver.position().on_hand, driver.position().reserved) == (10, 3)
    driver.feed([reservation(R.COMMIT, 3, at=3, reservation_id=rid), movement(K.SHIPMENT, -3, at=4)])
    assert (driver.position().on_hand, driver.position().reserved) == (7, 0)


def test_a_release_before_its_reserve_still_nets_out() -> None:
    change = ReservationChange("e1", ReservationOp.RELEASE, 2, 5)
    held = apply_reservation(Reservation(), change)
    assert held is not None
    held = apply_reservation(held, ReservationChange("e0", ReservationOp.RESERVE, 5, 1))
    assert held is not None
    assert held.outstanding == 3
    assert apply_reservation(held, change) is None


def test_a_newer_reserve_amends_the_quantity_and_an_older_one_does_not() -> None:
    held = apply_reservation(Reservation(), ReservationChange("b", ReservationOp.RESERVE, 7, 20))
    assert held is not None
    held = apply_reservation(held, ReservationChange("a", ReservationOp.RESERVE, 3, 10))
    assert held is not None
    assert held.outstanding == 7


def test_oversell_raises_an_alert_and_publishes_zero_atp() -> None:
    driver = _driver(safety_stock={"WH1": 2})
    rid = uuid.uuid4()
    driver.feed([movement(K.RECEIPT, 5, at=0), reservation(R.RESERVE, 4, at=1, reservation_id=rid)])
    alerts = driver.on("alerts")
    assert [(a.kind, a.shortfall) for a in alerts] == [("OVERSELL", 1)]
    last = driver.on("levels")[-1]
    assert (last.available, last.safety_stock, last.available_to_promise) == (1, 2, 0)


@pytest.mark.parametrize(
    ("kind", "quantity"),
    [(K.RECEIPT, -1), (K.SHIPMENT, 2), (K.TRANSFER_OUT, 1), (K.ABSOLUTE_COUNT, -4), (K.UNKNOWN, 1)],
)
def test_malformed_movements_are_dead_lettered(kind: K, quantity: int) -> None:
    driver = _driver()
    with pytest.raises(DeadLetterError):
        driver.feed([movement(kind, quantity)])


def test_a_record_keyed_to_another_sku_is_dead_lettered() -> None:
    driver = _driver()
    with pytest.raises(DeadLetterError, match="not the SKU of its value"):
        driver.feed([movement(K.RECEIPT, 1)], key=b"SKU-2")


def test_position_state_round_trips_through_json() -> None:
    position = apply_delta(Position(), Delta("a", 3, 4), LIMITS)
    position, _ = apply_count(position, Count("c", 2, 7, 10), LIMITS)
    assert Position.from_json(json.loads(json.dumps(position.to_json()))) == position


def test_position_state_written_with_bucket_pairs_reads_back_the_same() -> None:
    """Positions stored before the buckets became two flat arrays ("bk": [[at, qty], ...])."""
    position = apply_delta(Position(), Delta("a", 3, 4), LIMITS)
    position = apply_delta(position, Delta("b", 9, -1), LIMITS)
    position = apply_delta(position, Delta("c", 5, 2), LIMITS)
    stored = {key: value for key, value in _as_object(position).items() if key not in ("ka", "kq")}
    stored["bk"] = [[3, 4], [5, 2], [9, -1]]
    assert Position.from_json(json.loads(json.dumps(stored))) == position
    assert position.buckets == ((3, 4), (5, 2), (9, -1))


def _as_object(position: Position) -> dict[str, Any]:
    """A position as it was stored before the array form: a JSON object."""
    return {
        "oh": position.on_hand,
        "rs": position.reserved,
        "bq": position.base_qty,
        "ck": None if position.count_key is None else list(position.count_key),
        "st": position.settled_through,
        "ka": list(position.bucket_at),
        "kq": list(position.bucket_qty),
        "ao": position.as_of_ms,
        "mm": position.moved_ms,
        "rv": position.revision,
        "t": position.touched,
    }


@pytest.mark.parametrize("counted", [False, True])
def test_position_state_written_as_an_object_reads_back_the_same(counted: bool) -> None:
    """Positions stored before the array form (an object with "ka"/"kq") read as they were."""
    position = apply_delta(Position(), Delta("a", 3, 4), LIMITS)
    position = apply_delta(position, Delta("b", 9, -1), LIMITS)
    if counted:
        position, _ = apply_count(position, Count("c", 4, 2, 10), LIMITS)
    assert Position.from_json(json.loads(json.dumps(_as_object(position)))) == position


def test_position_state_round_trips_through_the_store_and_the_overlay() -> None:
    """Read back from disk (the store's own JSON) or from the overlay (to_json's list itself): equal."""
    position = apply_delta(Position(), Delta("a", 3, 4), LIMITS)
    position, _ = apply_count(position, Count("c", 2, 7, 10), LIMITS)
    position = apply_delta(position, Delta("d", 8, -2), LIMITS).revised(3)
    stored = position.to_json()
    from_disk, _ = decode_value(encode_value(stored, None))
    for read in (Position.from_json(from_disk), Position.from_json(stored)):
        assert read == position
        assert type(read.bucket_at) is tuple
        assert type(read.bucket_qty) is tuple
        assert type(read.count_key) is tuple
    bumped = position.to_json(4)  # the handler stores a publish's revision without another copy
    assert Position.from_json(bumped) == position.revised(4)
    assert Position.from_json(decode_value(encode_value(bumped, None))[0]) == position.revised(4)
