"""A read-your-writes view over one store for the duration of one handler call.

The runtime applies a handler's ``StatePut``/``StateDelete`` only after it returns, but the merger
reads what it has just written (a block it extended, a golden record it merged). :class:`Books`
keeps those writes in a local overlay and hands them back as the handler's state changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

from bus.service import StateDelete, StatePut

__all__ = ["Books", "MemoryStore", "ReadableStore"]

_DELETED = object()


class ReadableStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class Books:
    def __init__(self, store: ReadableStore, name: str) -> None:
        self._store = store
        self._name = name
        self._overlay: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._overlay:
            value = self._overlay[key]
            return default if value is _DELETED else value
        return self._store.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self._overlay[key] = value

    def delete(self, key: str) -> None:
        self._overlay[key] = _DELETED

    def changes(self) -> list[StatePut | StateDelete]:
        return [
            StateDelete(self._name, key) if value is _DELETED else StatePut(self._name, key, value)
            for key, value in self._overlay.items()
        ]


class MemoryStore:
    """A dict as a store, for tests: ``apply`` plays the runtime's part (values go through JSON,
    as they do through the changelog, so nothing can alias the handler's objects)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def apply(self, changes: list[StatePut | StateDelete]) -> None:
        for change in changes:
            if isinstance(change, StatePut):
                self.data[change.key] = json.loads(json.dumps(change.value, default=str))
            else:
                self.data.pop(change.key, None)

    def keys(self, prefix: str) -> Iterator[str]:
        return (key for key in list(self.data) if key.startswith(prefix))
