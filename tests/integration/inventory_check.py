"""The projector's end-to-end check: committed levels per position vs a from-scratch recomputation."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from schemas.ids import stock_key
from schemas.inventory.models import InventoryLevel, ReservationEvent, StockMovementEvent
from services.inventory_projector.handler import make_handler
from services.inventory_projector.settings import ProjectorSettings
from tests.integration.inventory_feed import decoder
from tests.integration.runtime.harness import read_all
from tests.inventory_support import Driver

__all__ = ["Levels", "compare", "levels_by_position", "recompute"]

Levels = dict[str, list[tuple[int, int, int, int]]]


def levels_by_position(bootstrap: str, registry: str, topic: str, partitions: int) -> Levels:
    """Every committed level (read_committed), per position in log order."""
    decode = decoder(registry, InventoryLevel)
    levels: Levels = defaultdict(list)
    for message in read_all(bootstrap, topic, partitions, timeout=180):
        level = decode(message.value(), topic)
        assert message.key() == str(stock_key(level.sku, level.location)).encode()
        levels[message.key().decode()].append(
            (level.on_hand, level.reserved, level.available_to_promise, level.revision)
        )
    return dict(levels)


def recompute(bootstrap: str, registry: str, settings: ProjectorSettings, partitions: int) -> Levels:
    """From scratch: the handler in memory over every input record in the broker's order."""
    driver = Driver(make_handler(settings), settings)
    inputs: list[tuple[str, Any]] = [
        (settings.movements_topic, decoder(registry, StockMovementEvent)),
        (settings.reservations_topic, decoder(registry, ReservationEvent)),
    ]
    for topic, decode in inputs:
        for message in read_all(bootstrap, topic, partitions, timeout=180):
            driver.send(topic, message.key(), decode(message.value(), topic))
    expected: Levels = defaultdict(list)
    for item in driver.emitted:
        if item.topic == settings.levels_topic:
            level = item.value
            expected[str(item.key)].append(
                (level.on_hand, level.reserved, level.available_to_promise, level.revision)
            )
    return dict(expected)


def compare(bootstrap: str, registry: str, topics: dict[str, str], service: str, partitions: int) -> int:
    """Positions whose published levels differ from the recomputation (benchmark soak)."""
    settings = ProjectorSettings(
        service_name=service,
        movements_topic=topics["movements"],
        reservations_topic=topics["reservations"],
        levels_topic=topics["levels"],
    )
    published = levels_by_position(bootstrap, registry, topics["levels"], partitions)
    expected = recompute(bootstrap, registry, settings, partitions)
    return sum(1 for key in set(published) | set(expected) if published.get(key) != expected.get(key))
