"""Interactive ATP queries, served by the runtime on the ops HTTP port (``ESB_HTTP_PORT``).

``GET /atp/{sku}`` -> every location of the SKU and the channel values last published;
``GET /atp/{sku}/{location}`` -> one stock position. Path segments are percent-decoded.

The routes are the runtime's interactive queries (:mod:`bus.query`): they read the committed SKU
store of the partitions this instance owns (never the open transaction's overlay), so an answer is
never something a crash could take back. Every answer says what it reflects: the runtime's
``ESB-State-Positions`` header (every owned store partition and its changelog offset), and in the
body the SKU store partition holding the SKU with its changelog offset, and per location the input
record (topic, partition, offset) whose processing produced the level. A SKU whose partition
another instance owns answers 404 (the reason lists the partitions this instance owns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bus.query import NotFoundError, Query, StateSnapshot
from services.inventory_projector.records import utc

__all__ = ["atp_queries", "position_answer", "sku_answer"]


def _entry(state: StateSnapshot, store: str, sku: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SKU's entry and what it reflects (its store partition and that partition's changelog offset)."""
    skus = state.store(store)
    entry = skus.get(sku)
    if entry is None:
        raise NotFoundError(f"SKU not in the store partitions {list(skus.partitions)} of this instance")
    partition = entry.get("p")
    offset = skus.positions().get(partition) if partition is not None else None
    return entry, {"store_partition": partition, "changelog_offset": offset}


def sku_answer(params: Mapping[str, str], state: StateSnapshot, store: str) -> dict[str, Any]:
    sku = params["sku"]
    entry, reflects = _entry(state, store, sku)
    locations = {name: _location(data) for name, data in sorted(entry["l"].items())}
    return {
        "sku": sku,
        "available_to_promise": sum(loc["available_to_promise"] for loc in locations.values()),
        "locations": locations,
        "channels": {name: slot[0] for name, slot in sorted(entry["c"].items())},
        "reflects": reflects,
    }


def position_answer(params: Mapping[str, str], state: StateSnapshot, store: str) -> dict[str, Any]:
    sku, location = params["sku"], params["location"]
    entry, reflects = _entry(state, store, sku)
    data = entry["l"].get(location)
    if data is None:
        raise NotFoundError(f"no level of the SKU at {location!r}")
    answer = {"sku": sku, "location": location, **_location(data)}
    answer["reflects"] = {**answer["reflects"], **reflects}
    return answer


def atp_queries(store: str) -> list[Query]:
    """The routes the runtime serves on its ops HTTP port, over the SKU store ``store``."""

    def sku(params: Mapping[str, str], state: StateSnapshot) -> Any:
        return sku_answer(params, state, store)

    def position(params: Mapping[str, str], state: StateSnapshot) -> Any:
        return position_answer(params, state, store)

    return [Query("/atp/{sku}", sku), Query("/atp/{sku}/{location}", position)]


def _location(data: Mapping[str, Any]) -> dict[str, Any]:
    topic, partition, offset = data["src"]
    return {
        "on_hand": data["oh"],
        "reserved": data["rs"],
        "safety_stock": data["ss"],
        "available_to_promise": data["atp"],
        "revision": data["rv"],
        "as_of": utc(data["ao"]).isoformat(),
        "reflects": {"topic": topic, "partition": partition, "offset": offset},
    }
