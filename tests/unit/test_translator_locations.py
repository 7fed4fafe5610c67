"""The translator maps source location codes through the configured crosswalk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.translator.ingress import IngressRecord
from services.translator.locations import relocate
from services.translator.registry import adapter_for, all_routes

pytestmark = pytest.mark.unit

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def _magento_counts() -> list[object]:
    record = IngressRecord(
        raw=(CONFORMANCE / "magento2" / "msi_source_items_request.json").read_bytes(),
        system="magento",
        entity="source-items",
        account="demo",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return list(adapter_for("magento", "source-items", all_routes())(record))


def test_mapped_locations_are_replaced_and_others_pass_through() -> None:
    events = _magento_counts()
    codes = sorted({event.location for event in events})  # type: ignore[attr-defined]
    mapped, unmapped = codes[0], codes[1:]
    crosswalk = {mapped: "WH-ENTERPRISE-1"}
    relocated = [relocate(event, crosswalk) for event in events]  # type: ignore[type-var]
    assert {e.location for e in relocated if e.location not in unmapped} == {"WH-ENTERPRISE-1"}
    assert sorted({e.location for e in relocated} - {"WH-ENTERPRISE-1"}) == unmapped
    # Nothing else changes: same movement ids, same quantities.
    assert [e.movement_id for e in relocated] == [e.movement_id for e in events]  # type: ignore[attr-defined]
    assert [e.quantity for e in relocated] == [e.quantity for e in events]  # type: ignore[attr-defined]


def test_no_crosswalk_returns_the_same_event() -> None:
    event = _magento_counts()[0]
    assert relocate(event, {}) is event  # type: ignore[type-var]
