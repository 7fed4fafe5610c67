"""Merge/unmerge bookkeeping: which golden record each source record belongs to.

Store layout (one store, ``merger``; every value JSON):

- ``s:<customer_id>`` -> ``{"r": SourceRecord, "g": golden_id, "ev": [MatchEvidence]}``
- ``g:<golden_id>`` -> ``{"m": [customer_id...] sorted, "rev": revision, "h": content hash}``
- ``o:<customer_id>`` -> ``{order_id: OrderFact}`` (Customer 360)
- ``cl:<customer_id>`` -> ``[customer_id...]`` never to be linked automatically (steward splits)
- ``er:<customer_id>`` -> ``1``: erased; later records of this source id are dropped
- ``b:<blocking key>`` -> ``[customer_id...]`` (see :mod:`blocking`)

The invariant every operation keeps: each ``s:`` entry names exactly one golden record, and that
golden record lists it among its members; no member is listed twice (:func:`check_invariants`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.ids import canonical_id
from services.customer_merger.books import Books
from services.customer_merger.records import SourceRecord

__all__ = ["Effects", "Ledger", "MergeNote", "ReviewNote", "check_invariants", "new_golden_id"]


def new_golden_id(founder: str, salt: str = "") -> str:
    """Deterministic: the founding source record (plus a salt for splits) names the golden record."""
    return str(canonical_id("esb", "customer-merger", "golden-customer", f"{founder}{salt}"))


@dataclass(slots=True)
class MergeNote:
    kind: str  # MERGE | UNMERGE
    survivor: str
    others: list[str]
    moved: list[str]
    evidence: list[dict[str, Any]]


@dataclass(slots=True)
class ReviewNote:
    customer_id: str
    golden_id: str
    candidates: list[str]
    reason: str
    evidence: list[dict[str, Any]]


@dataclass(slots=True)
class Effects:
    """What changed in one step, for the handler to publish."""

    goldens: set[str] = field(default_factory=set)
    removed_goldens: set[str] = field(default_factory=set)
    crosswalk: set[str] = field(default_factory=set)
    removed_crosswalk: set[str] = field(default_factory=set)
    merges: list[MergeNote] = field(default_factory=list)
    reviews: list[ReviewNote] = field(default_factory=list)

    def golden_changed(self, golden_id: str) -> None:
        self.goldens.add(golden_id)
        self.removed_goldens.discard(golden_id)

    def golden_removed(self, golden_id: str) -> None:
        self.removed_goldens.add(golden_id)
        self.goldens.discard(golden_id)

    def link_changed(self, customer_id: str) -> None:
        self.crosswalk.add(customer_id)
        self.removed_crosswalk.discard(customer_id)

    def link_removed(self, customer_id: str) -> None:
        self.removed_crosswalk.add(customer_id)
        self.crosswalk.discard(customer_id)


class Ledger:
    def __init__(self, books: Books, effects: Effects) -> None:
        self.books = books
        self.effects = effects

    # -- reads ---------------------------------------------------------------------------------
    def entry(self, customer_id: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.books.get(f"s:{customer_id}")
        return value

    def record(self, customer_id: str) -> SourceRecord | None:
        entry = self.entry(customer_id)
        return None if entry is None else SourceRecord.from_state(entry["r"])

    def golden_of(self, customer_id: str) -> str | None:
        entry = self.entry(customer_id)
        return None if entry is None else str(entry["g"])

    def golden(self, golden_id: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.books.get(f"g:{golden_id}")
        return value

    def members(self, golden_id: str) -> list[str]:
        golden = self.golden(golden_id)
        return list(golden["m"]) if golden else []

    def erased(self, customer_id: str) -> bool:
        return bool(self.books.get(f"er:{customer_id}"))

    def cannot_link(self, left: Iterable[str], right: Iterable[str]) -> bool:
        right_set = set(right)
        return any(set(self.books.get(f"cl:{cid}") or ()) & right_set for cid in left)

    def free_golden_id(self, founder: str) -> str:
        candidate, attempt = new_golden_id(founder), 0
        while self.golden(candidate) is not None:
            attempt += 1
            candidate = new_golden_id(founder, f"#{attempt}")
        return candidate

    # -- writes ----------------------------------------------------------------------------------
    def put_record(self, record: SourceRecord, golden_id: str, evidence: list[dict[str, Any]]) -> None:
        self.books.put(f"s:{record.customer_id}", {"r": record.to_state(), "g": golden_id, "ev": evidence})
        self.effects.link_changed(record.customer_id)

    def _relink(self, customer_id: str, golden_id: str, evidence: list[dict[str, Any]] | None) -> None:
        entry = self.entry(customer_id)
        assert entry is not None, "relinking an unknown source record"
        updated = {**entry, "g": golden_id}
        if evidence is not None:
            updated["ev"] = evidence
        self.books.put(f"s:{customer_id}", updated)
        self.effects.link_changed(customer_id)

    def _set_members(self, golden_id: str, members: Iterable[str]) -> None:
        ordered = sorted(set(members))
        golden = self.golden(golden_id)
        if not ordered:
            if golden is not None:
                self.books.delete(f"g:{golden_id}")
            self.effects.golden_removed(golden_id)
            return
        base = golden or {"rev": 0, "h": ""}
        self.books.put(f"g:{golden_id}", {**base, "m": ordered})
        self.effects.golden_changed(golden_id)

    def add_member(self, golden_id: str, customer_id: str) -> None:
        self._set_members(golden_id, [*self.members(golden_id), customer_id])

    def remove_member(self, golden_id: str, customer_id: str) -> None:
        self._set_members(golden_id, [m for m in self.members(golden_id) if m != customer_id])

    def merge(self, survivor: str, others: Iterable[str], evidence: list[dict[str, Any]]) -> list[str]:
        """Move every member of ``others`` into ``survivor``; the others cease to exist."""
        moved: list[str] = []
        for other in sorted(set(others) - {survivor}):
            members = self.members(other)
            for customer_id in members:
                self._relink(customer_id, survivor, evidence)
            moved.extend(members)
            self._set_members(other, [])
        self._set_members(survivor, [*self.members(survivor), *moved])
        return moved

    def split(self, golden_id: str, customer_ids: Iterable[str], new_id: str) -> list[str]:
        """Move ``customer_ids`` out of ``golden_id`` into ``new_id``; they are never auto-linked back."""
        members = self.members(golden_id)
        leaving = sorted(set(customer_ids) & set(members))
        staying = [m for m in members if m not in leaving]
        if not leaving or not staying:
            return []
        evidence = [{"rule": "steward_unmerge", "score": 100, "explanation": f"split from {golden_id}"}]
        for customer_id in leaving:
            self._relink(customer_id, new_id, evidence)
        self._set_members(golden_id, staying)
        self._set_members(new_id, leaving)
        self._forbid(leaving, staying)
        return leaving

    def _forbid(self, left: list[str], right: list[str]) -> None:
        for a, others in ((cid, right) for cid in left):
            self.books.put(f"cl:{a}", sorted({*(self.books.get(f"cl:{a}") or ()), *others}))
        for b in right:
            self.books.put(f"cl:{b}", sorted({*(self.books.get(f"cl:{b}") or ()), *left}))

    def allow(self, left: Iterable[str], right: Iterable[str]) -> None:
        """A steward merged them: earlier do-not-link decisions between the two sets are lifted."""
        left_set, right_set = set(left), set(right)
        for cid, others in [(c, right_set) for c in left_set] + [(c, left_set) for c in right_set]:
            current = self.books.get(f"cl:{cid}") or []
            rest = [x for x in current if x not in others]
            if len(rest) != len(current):
                if rest:
                    self.books.put(f"cl:{cid}", rest)
                else:
                    self.books.delete(f"cl:{cid}")

    def detach(self, customer_id: str) -> str | None:
        """Remove a source record from its golden record and forget it; returns the golden id."""
        golden_id = self.golden_of(customer_id)
        if golden_id is None:
            return None
        self.remove_member(golden_id, customer_id)
        self.books.delete(f"s:{customer_id}")
        self.books.delete(f"o:{customer_id}")
        self.effects.link_removed(customer_id)
        return golden_id


def check_invariants(data: dict[str, Any]) -> list[str]:
    """Problems with the books in ``data`` (a full store dump); empty when every source record is
    linked to exactly one golden record that lists it."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for key, value in data.items():
        if key.startswith("g:"):
            golden_id = key[2:]
            if not value["m"]:
                problems.append(f"{golden_id} has no members")
            for member in value["m"]:
                if member in seen:
                    problems.append(f"{member} is in {seen[member]} and {golden_id}")
                seen[member] = golden_id
    for key, value in data.items():
        if key.startswith("s:"):
            customer_id = key[2:]
            if seen.get(customer_id) != value["g"]:
                problems.append(f"{customer_id} points at {value['g']}, listed in {seen.get(customer_id)}")
    sources = {key[2:] for key in data if key.startswith("s:")}
    problems.extend(f"{m} is a member without a source record" for m in set(seen) - sources)
    return problems
