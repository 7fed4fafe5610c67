"""Interactive queries: read-only HTTP GET routes over the committed state this instance owns.

A service declares ``Service(queries=[Query("/atp/{sku}", atp)])``; the runtime serves them on its
ops HTTP server (``ESB_HTTP_PORT``, beside ``/healthz`` and ``/metrics``). ``atp(params, state)``
gets the path parameters (plus the query string's, first value each) and a :class:`StateSnapshot`
of the store partitions assigned to this instance, and returns something JSON-serialisable; it
returns ``None`` or raises :class:`NotFoundError` for an unknown key (404).

The snapshot reads what the last committed transaction wrote to disk, never the processing
loop's in-flight overlay, and it is taken under the state lock, so a query sees every partition at
one checkpoint. While partitions are being restored the answer is 503. Every answer carries the
changelog offsets it reflects in the ``ESB-State-Positions`` header (JSON ``{store: {partition:
offset}}``), so a client can tell how fresh it is. A store partition holds only the keys of the
input partitions it belongs to: with several instances, a key's owner is the instance assigned its
partition, and a query that sums over partitions covers only those listed in the header.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bus.state.store import StorePartition

__all__ = [
    "NotFoundError",
    "Query",
    "QueryAnswer",
    "QueryFn",
    "QueryRouter",
    "SnapshotSource",
    "StateSnapshot",
    "StateUnavailableError",
    "StoreSnapshot",
]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
POSITIONS_HEADER = "ESB-State-Positions"


class NotFoundError(Exception):
    """The query's key is not in this instance's state: answered with 404."""


class StoreSnapshot:
    """One store's committed data over the partitions this instance owns."""

    def __init__(self, parts: Sequence[StorePartition]) -> None:
        self._parts = sorted(parts, key=lambda part: part.partition)

    @property
    def partitions(self) -> tuple[int, ...]:
        return tuple(part.partition for part in self._parts)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` in the first owned partition that has it."""
        for part in self._parts:
            value = part.get_committed(key, _ABSENT)
            if value is not _ABSENT:
                return value
        return default

    def values(self, key: str) -> list[Any]:
        """The value of ``key`` in every owned partition that has it (per-partition aggregates)."""
        return [value for part in self._parts if (value := part.get_committed(key, _ABSENT)) is not _ABSENT]

    def positions(self) -> dict[int, int | None]:
        """Changelog offset each partition's snapshot reflects (None: nothing written yet)."""
        return {part.partition: part.backend.changelog_offset() for part in self._parts}


_ABSENT: Any = object()


class StateSnapshot:
    """The committed state of every store partition this instance owns."""

    def __init__(self, stores: Mapping[str, Sequence[StorePartition]]) -> None:
        self._stores = {name: StoreSnapshot(parts) for name, parts in stores.items()}

    def store(self, name: str) -> StoreSnapshot:
        try:
            return self._stores[name]
        except KeyError:
            raise KeyError(f"no store {name!r}") from None

    def positions(self) -> dict[str, dict[int, int | None]]:
        return {name: store.positions() for name, store in self._stores.items()}


QueryFn = Callable[[Mapping[str, str], StateSnapshot], Any]


@dataclass(frozen=True, slots=True)
class Query:
    """A read-only GET route: ``path`` with ``{name}`` parameters (one path segment each)."""

    path: str
    fn: QueryFn

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.rstrip("/") in ("", "/healthz", "/readyz", "/metrics"):
            raise ValueError(f"invalid query path {self.path!r}")

    def pattern(self) -> re.Pattern[str]:
        parts = _PARAM.split(self.path.rstrip("/"))
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
        )
        return re.compile(f"^{regex}/?$")


class SnapshotSource(Protocol):
    """Where the router gets a snapshot (the runtime's :class:`bus.state.StateManager`)."""

    def snapshot(self, timeout_s: float) -> AbstractContextManager[StateSnapshot]:
        """Holds the state still while open; raises :class:`StateUnavailableError` while restoring."""
        ...


class StateUnavailableError(Exception):
    """State is being restored (or no partition is assigned yet): answered with 503."""


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    status: int
    body: bytes
    headers: Mapping[str, str]


class QueryRouter:
    """Matches a GET path to a declared query and answers it from a committed snapshot."""

    def __init__(self, queries: Sequence[Query], source: SnapshotSource, lock_timeout_s: float = 5.0) -> None:
        self._routes = [(query.pattern(), query) for query in queries]
        self._source = source
        self._timeout_s = lock_timeout_s

    def match(self, path: str) -> tuple[Query, dict[str, str]] | None:
        url = urllib.parse.urlsplit(path)
        for pattern, query in self._routes:
            found = pattern.match(url.path)
            if found is not None:
                params = {name: values[0] for name, values in urllib.parse.parse_qs(url.query).items()}
                params.update({k: urllib.parse.unquote(v) for k, v in found.groupdict().items()})
                return query, params
        return None

    def answer(self, path: str) -> QueryAnswer | None:
        """None when no query matches ``path``."""
        matched = self.match(path)
        if matched is None:
            return None
        query, params = matched
        reason = ""
        try:
            with self._source.snapshot(self._timeout_s) as snapshot:
                positions = _positions_header(snapshot.positions())
                try:
                    result = query.fn(params, snapshot)
                except NotFoundError as exc:
                    result, reason = None, str(exc)
        except StateUnavailableError as exc:
            return _json(503, {"error": "unavailable", "reason": str(exc)}, {"Retry-After": "1"})
        headers = {POSITIONS_HEADER: positions}
        if result is None:
            return _json(404, {"error": "not found", "path": path, "reason": reason}, headers)
        return _json(200, result, headers)


def _positions_header(positions: Mapping[str, Mapping[int, int | None]]) -> str:
    return json.dumps({store: {str(p): o for p, o in parts.items()} for store, parts in positions.items()})


def _json(status: int, body: Any, headers: Mapping[str, str]) -> QueryAnswer:
    data = json.dumps(body, default=str, separators=(",", ":")).encode()
    return QueryAnswer(status, data, {"Content-Type": "application/json", **headers})
