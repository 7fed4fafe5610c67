"""The matcher: one normalised input in, the books updated and the effects listed.

For a source record: block, compare with every candidate, group the comparisons by the
candidates' golden records, then

- no golden record matches: a new golden record (possible matches go to review);
- one matches: the record joins it;
- several match (the record bridges them): they merge into the largest (ties: smallest id),
  unless a steward has split them before (do-not-link), which sends the bridge to review.

An update of a known source record re-indexes it and may bridge as above; it never splits
its golden record on its own (only a steward does, so a typo fixed at the source cannot flap
a customer between golden records).
"""

from __future__ import annotations

from typing import Any

from services.customer_merger.blocking import blocking_keys, candidates, index, unindex
from services.customer_merger.books import Books
from services.customer_merger.erasure import erase
from services.customer_merger.match import Comparison, Decision, compare
from services.customer_merger.merge import Effects, Ledger, MergeNote, ReviewNote, new_golden_id
from services.customer_merger.records import InputKind, MatchInput, OrderFact, SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

__all__ = ["MatchEngine", "evidence_of"]


_UPDATE = {"rule": "known_source_id", "score": 100, "explanation": "update of a linked source record"}


def evidence_of(comparison: Comparison) -> dict[str, Any]:
    """A MatchEvidence as a dict: the deciding rule, the 0-100 score and the field-level explanation."""
    return {
        "rule": comparison.rule,
        "score": comparison.score,
        "explanation": f"{comparison.decision}: {' '.join(comparison.rules)}; {comparison.explain()}",
    }


class MatchEngine:
    def __init__(self, settings: CustomerMergerSettings) -> None:
        self._settings = settings
        self._match = settings.match

    def apply(self, item: MatchInput, books: Books) -> Effects:
        effects = Effects()
        ledger = Ledger(books, effects)
        if item.kind in (InputKind.CUSTOMER, InputKind.ORDER) and item.record is not None:
            self._upsert(ledger, item.record, item.order)
        elif item.kind is InputKind.CUSTOMER_DELETED and item.record is not None:
            self._delete(ledger, item.record.customer_id)
        elif item.kind is InputKind.ERASURE:
            erase(ledger, item.erase_customer_ids, item.erase_golden_ids, item.erase_email)
        elif item.kind is InputKind.STEWARD_MERGE and item.golden_id:
            self._steward_merge(ledger, item.golden_id, item.other_golden_ids)
        elif item.kind is InputKind.STEWARD_UNMERGE and item.golden_id:
            self._steward_unmerge(ledger, item.golden_id, item.customer_ids)
        return effects

    # -- source records ----------------------------------------------------------------------------
    def _upsert(self, ledger: Ledger, record: SourceRecord, order: OrderFact | None) -> None:
        cid = record.customer_id
        if ledger.erased(cid):
            return
        known = ledger.record(cid)
        if order is not None:
            facts = dict(ledger.books.get(f"o:{cid}") or {})
            facts[order.order_id] = order.model_dump(mode="json")
            ledger.books.put(f"o:{cid}", facts)
            if known is not None:
                # The customer record (or an earlier order) already holds the person: 360 only.
                golden_id = ledger.golden_of(cid)
                assert golden_id is not None
                ledger.effects.golden_changed(golden_id)
                return
        if known is not None:
            if known.model_dump() == record.model_dump():
                return
            unindex(ledger.books, cid, blocking_keys(known))
        current = ledger.golden_of(cid)
        keys = blocking_keys(record)
        best: dict[str, Comparison] = {}
        for other in candidates(ledger.books, keys, cid, self._match.max_candidates):
            other_record = ledger.record(other)
            other_golden = ledger.golden_of(other)
            if other_record is None or other_golden is None:
                continue
            comparison = compare(record, other_record, self._match)
            previous = best.get(other_golden)
            if previous is None or _rank(comparison) > _rank(previous):
                best[other_golden] = comparison
        matched = {g: c for g, c in best.items() if c.decision is Decision.MATCH}
        possible = {g: c for g, c in best.items() if c.decision is Decision.POSSIBLE and g != current}

        # Join the matched golden records, strongest first, unless a steward forbade the link.
        cluster = {cid, *(ledger.members(current) if current else ())}
        joined: list[str] = [current] if current else []
        blocked: dict[str, Comparison] = {}
        for golden_id in sorted(matched, key=lambda g: (-matched[g].weight, g)):
            if golden_id == current:
                continue
            if ledger.cannot_link(cluster, ledger.members(golden_id)):
                blocked[golden_id] = matched[golden_id]
                continue
            joined.append(golden_id)
            cluster |= set(ledger.members(golden_id))

        reasons = [matched[g] for g in joined if g in matched]
        if not joined:
            target = ledger.free_golden_id(cid)
            evidence = [{"rule": "new", "score": 0, "explanation": "no golden record matched"}]
        else:
            target = min(joined, key=lambda g: (-len(ledger.members(g)), g))
            if reasons:
                evidence = [evidence_of(max(reasons, key=_rank))]
            else:
                entry = ledger.entry(cid)
                evidence = list(entry["ev"]) if entry and entry.get("ev") else [_UPDATE]
        ledger.put_record(record, current or target, evidence)
        if current is None:
            ledger.add_member(target, cid)
        others = [g for g in joined if g != target]
        if others:
            bridge = [evidence_of(matched[g]) for g in others if g in matched] or evidence
            moved = ledger.merge(target, others, bridge)
            ledger.effects.merges.append(MergeNote("MERGE", target, sorted(others), sorted(moved), bridge))
        else:
            ledger.effects.golden_changed(target)
        index(ledger.books, cid, keys, self._match.max_block_size)
        if blocked:
            ledger.effects.reviews.append(
                ReviewNote(cid, target, sorted(blocked), "conflicting_do_not_link", _evidence(blocked))
            )
        held = {g: c for g, c in possible.items() if ledger.golden(g) is not None and g != target}
        if held:
            ledger.effects.reviews.append(
                ReviewNote(cid, target, sorted(held), "possible_match", _evidence(held))
            )

    def _delete(self, ledger: Ledger, cid: str) -> None:
        known = ledger.record(cid)
        if known is None:
            return
        unindex(ledger.books, cid, blocking_keys(known))
        ledger.detach(cid)

    # -- stewards --------------------------------------------------------------------------------
    def _steward_merge(self, ledger: Ledger, survivor: str, others: list[str]) -> None:
        if ledger.golden(survivor) is None:
            return
        live = [g for g in sorted(set(others)) if g != survivor and ledger.golden(g) is not None]
        if not live:
            return
        for other in live:
            ledger.allow(ledger.members(survivor), ledger.members(other))
        evidence = [{"rule": "steward_merge", "score": 100, "explanation": "merged by a data steward"}]
        moved = ledger.merge(survivor, live, evidence)
        ledger.effects.merges.append(MergeNote("MERGE", survivor, live, sorted(moved), evidence))

    def _steward_unmerge(self, ledger: Ledger, golden_id: str, customer_ids: list[str]) -> None:
        golden = ledger.golden(golden_id)
        leaving = sorted(set(customer_ids) & set(ledger.members(golden_id)))
        if golden is None or not leaving:
            return
        new_id = ledger.free_golden_id(new_golden_id(leaving[0], f"split:{golden['rev']}"))
        moved = ledger.split(golden_id, leaving, new_id)
        if moved:
            evidence = [{"rule": "steward_unmerge", "score": 100, "explanation": "split by a data steward"}]
            ledger.effects.merges.append(MergeNote("UNMERGE", golden_id, [new_id], moved, evidence))


def _rank(comparison: Comparison) -> tuple[int, float]:
    return (1 if comparison.decision is Decision.MATCH else 0, comparison.weight)


def _evidence(comparisons: dict[str, Comparison]) -> list[dict[str, Any]]:
    return [evidence_of(comparisons[g]) for g in sorted(comparisons)]
