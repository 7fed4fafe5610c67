"""Location crosswalk: a source's location code (``magento:WH-US-EAST``) to the enterprise's own.

Adapters name locations ``<system>:<native>`` because a native location id means nothing outside
its system. Operators map the ones that are the same physical stock position to one enterprise code
(``WH-US-EAST``), which routing rules and the inventory projector use; unmapped codes pass through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel

from schemas.base import AvroRecord

__all__ = ["relocatable", "relocate"]

_LOCATION_FIELDS = ("location", "counterparty_location")

E = TypeVar("E", bound=AvroRecord)


def relocate(event: E, crosswalk: Mapping[str, str]) -> E:
    """The event with its location fields mapped through ``crosswalk`` (the same event if none is)."""
    if not crosswalk:
        return event
    updates = {
        name: crosswalk[value]
        for name in _LOCATION_FIELDS
        if isinstance(value := getattr(event, name, None), str) and value in crosswalk
    }
    return event.model_copy(update=updates) if updates else event


def relocatable(model: type[BaseModel]) -> bool:
    """Whether :func:`relocate` can change events of ``model`` (it has a location field)."""
    return any(name in model.model_fields for name in _LOCATION_FIELDS)
