"""The SKU stage's backlog: backordered units waiting for stock, first placed first served.

An entry is one order line's backordered units of the SKU, with the line's ranked locations. The
backlog is kept sorted by (placed-at, order id, line id), so fills are FIFO by order placement and
deterministic. Units leave it when stock arrives (a fill) or when the order no longer waits for them
(a shrink, a removed or re-SKU'd line, a cancellation: the order stage says so in its release).

A popular SKU out of stock can have thousands of waiting lines, so the backlog is paged: the SKU's
``skus`` record keeps only a small index (per page: id, first key, entry count, the locations its
entries wait at) and entries live in pages of at most :data:`PAGE_SIZE` under their own keys of the
same store; a pointer key per waiting line names its page. A change reads and writes the index, the
pages it touches and the pointers of the lines it moves: O(page size + index size), never O(lines).
Every write is a ``StatePut``/``StateDelete`` of the same handler call, so it commits with the rest.
"""

from __future__ import annotations

import json
from bisect import bisect_right, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bus.service import Outgoing, StateDelete, StatePut, StateView

__all__ = ["PAGE_SIZE", "Backlog", "Waiting", "line_key", "page_key"]

PAGE_SIZE = 64
_MERGE_BELOW = PAGE_SIZE // 4  # a page this small after a change is folded into a neighbour

Key = tuple[int, str, str]


@dataclass(slots=True)
class Waiting:
    order_id: str
    line_id: str
    units: int
    locations: tuple[str, ...]
    placed_at_ms: int
    correlation_id: str

    def key(self) -> Key:
        return (self.placed_at_ms, self.order_id, self.line_id)

    def __lt__(self, other: Waiting) -> bool:
        return self.key() < other.key()

    def to_json(self) -> list[Any]:
        return [
            self.order_id,
            self.line_id,
            self.units,
            list(self.locations),
            self.placed_at_ms,
            self.correlation_id,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Waiting:
        return cls(data[0], data[1], int(data[2]), tuple(data[3]), int(data[4]), data[5])


# Pages and pointers share the ``skus`` store with the SKU records, whose keys are the bare SKUs. As
# JSON arrays their keys cannot be mistaken for one another's, nor for any SKU but the literal text
# of such an array; "<sku>#bo#<page>" would collide with a SKU that ends in "#bo#1".
def page_key(sku: str, page: int) -> str:
    return json.dumps(["backlog-page", sku, page])


def line_key(sku: str, order_id: str, line_id: str) -> str:
    return json.dumps(["backlog-line", sku, order_id, line_id])


@dataclass(slots=True)
class _Page:
    """A page as the index knows it (exact whenever the page was last written)."""

    id: int
    first: Key
    count: int
    locations: frozenset[str]

    def to_json(self) -> list[Any]:
        return [self.id, *self.first, self.count, sorted(self.locations)]

    @classmethod
    def from_json(cls, data: list[Any]) -> _Page:
        return cls(int(data[0]), (int(data[1]), data[2], data[3]), int(data[4]), frozenset(data[5]))


class Backlog:
    """One SKU's backlog, read lazily from ``store`` and written back by :meth:`outputs`."""

    def __init__(self, store: str, sku: str, view: StateView, record: dict[str, Any] | None) -> None:
        self._store = store
        self._sku = sku
        self._view = view
        index = (record or {}).get("bi") or {"n": 0, "p": []}
        self._next: int = int(index["n"])
        self._index: list[_Page] = [_Page.from_json(p) for p in index["p"]]
        self._pages: dict[int, list[Waiting]] = {}  # loaded pages, including this call's changes
        self._dirty: set[int] = set()
        self._dropped: set[int] = set()
        self._pointers: dict[tuple[str, str], int | None] = {}  # changed pointers (None: removed)
        legacy = (record or {}).get("bo")
        if legacy:  # a record from before paging: the whole list is migrated on the next write
            self._migrate(sorted(Waiting.from_json(w) for w in legacy))

    def _migrate(self, entries: list[Waiting]) -> None:
        for start in range(0, len(entries), PAGE_SIZE):
            chunk = entries[start : start + PAGE_SIZE]
            page = self._new_page(len(self._index), chunk)
            for w in chunk:
                self._pointers[(w.order_id, w.line_id)] = page

    # -- reading ---------------------------------------------------------------------------------
    def _position(self, page: int) -> int:
        return next(i for i, p in enumerate(self._index) if p.id == page)

    def _load(self, page: int) -> list[Waiting]:
        entries = self._pages.get(page)
        if entries is None:
            raw = self._view.get(page_key(self._sku, page)) or []
            entries = self._pages[page] = [Waiting.from_json(w) for w in raw]
        return entries

    def _where(self, order_id: str, line_id: str) -> int | None:
        if (order_id, line_id) in self._pointers:
            return self._pointers[(order_id, line_id)]
        page = self._view.get(line_key(self._sku, order_id, line_id))
        return None if page is None else int(page)

    def _find(self, order_id: str, line_id: str) -> tuple[int, Waiting] | None:
        page = self._where(order_id, line_id)
        if page is None:
            return None
        entry = next((w for w in self._load(page) if w.order_id == order_id and w.line_id == line_id), None)
        return None if entry is None else (page, entry)

    def __len__(self) -> int:
        return sum(p.count for p in self._index)

    def entries(self) -> list[Waiting]:
        """Every waiting line in order: O(lines), for inspection and tests, not for the stage."""
        return [w for p in self._index for w in self._load(p.id)]

    def candidates(self, live: Callable[[], set[str]]) -> Iterator[Waiting]:
        """Waiting lines in order, skipping pages none of whose lines waits at a ``live()``
        location, and stopping once ``live()`` is empty. The caller may change the yielded entry
        through :meth:`give_up` before asking for the next one."""
        for page in [p.id for p in self._index]:
            where = live()
            if not where:
                return
            if page in self._dropped or not where & self._index[self._position(page)].locations:
                continue
            for entry in list(self._load(page)):
                if where & set(entry.locations):
                    yield entry
                where = live()
                if not where:
                    return

    # -- changing --------------------------------------------------------------------------------
    def wait(self, entry: Waiting) -> None:
        """Add backordered units; a line already waiting keeps its place and takes the newest locations."""
        found = self._find(entry.order_id, entry.line_id)
        if found is not None:
            page, known = found
            known.units += entry.units
            known.locations = entry.locations
            self._touch(page)
            return
        key = entry.key()
        if not self._index:
            page = self._new_page(0, [entry])
        else:
            at = max(bisect_right([p.first for p in self._index], key) - 1, 0)
            page = self._index[at].id
            entries = self._load(page)
            if at == len(self._index) - 1 and len(entries) >= PAGE_SIZE and key > entries[-1].key():
                page = self._new_page(at + 1, [entry])  # the usual case: a later placement, a new tail
            else:
                insort(entries, entry)
                self._touch(page)
                if len(entries) > PAGE_SIZE:
                    moved = self._split(at)
                    if any(w is entry for w in self._load(moved)):
                        page = moved
        self._pointers[(entry.order_id, entry.line_id)] = page

    def give_up(self, order_id: str, line_id: str, units: int) -> None:
        """The order no longer waits for ``units`` of the line (at most what is still waiting)."""
        found = self._find(order_id, line_id)
        if found is None:
            return  # already filled (the fill is on its way to the order, which gives it back)
        page, known = found
        known.units -= min(units, known.units)
        if known.units == 0:
            self._load(page).remove(known)
            self._pointers[(order_id, line_id)] = None
        self._touch(page)

    def _new_page(self, at: int, entries: list[Waiting]) -> int:
        page = self._next
        self._next += 1
        self._pages[page] = entries
        self._index.insert(at, _Page(page, entries[0].key(), 0, frozenset()))
        self._touch(page)
        return page

    def _touch(self, page: int) -> None:
        """Bring the page's index entry up to date (O(page)); drop the page once empty."""
        entries = self._pages[page]
        at = self._position(page)
        if not entries:
            del self._index[at]
            self._dirty.discard(page)
            self._dropped.add(page)
            return
        self._index[at] = _Page(
            page, entries[0].key(), len(entries), frozenset(loc for w in entries for loc in w.locations)
        )
        self._dirty.add(page)

    def _split(self, at: int) -> int:
        """Move the upper half of the overfull page at ``at`` to a new page right after it."""
        entries = self._pages[self._index[at].id]
        upper = entries[len(entries) // 2 :]
        del entries[len(entries) // 2 :]
        self._touch(self._index[at].id)
        page = self._new_page(at + 1, upper)
        for w in upper:
            self._pointers[(w.order_id, w.line_id)] = page
        return page

    def _compact(self) -> None:
        """Fold each small page this call changed into its successor when both fit in one page,
        so give-ups scattered over the backlog cannot leave the index one tiny page per line."""
        for page in sorted(self._dirty):
            if page not in self._dirty:
                continue  # folded meanwhile
            at = self._position(page)
            if self._index[at].count >= _MERGE_BELOW or at + 1 == len(self._index):
                continue
            after = self._index[at + 1].id
            if self._index[at].count + self._index[at + 1].count > PAGE_SIZE:
                continue
            entries = self._pages[page]
            target = self._load(after)
            target[:0] = entries
            for w in entries:
                self._pointers[(w.order_id, w.line_id)] = after
            entries.clear()
            self._touch(page)
            self._touch(after)

    def outputs(self) -> list[Outgoing]:
        """The writes of this call's changes; the index goes into the SKU record (:meth:`to_json`)."""
        self._compact()
        out: list[Outgoing] = []
        for page in sorted(self._dropped - self._dirty):
            out.append(StateDelete(self._store, page_key(self._sku, page)))
        for page in sorted(self._dirty):
            out.append(
                StatePut(self._store, page_key(self._sku, page), [w.to_json() for w in self._pages[page]])
            )
        for (order_id, line_id), target in sorted(self._pointers.items()):
            key = line_key(self._sku, order_id, line_id)
            out.append(
                StateDelete(self._store, key) if target is None else StatePut(self._store, key, target)
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {"n": self._next, "p": [p.to_json() for p in self._index]}
