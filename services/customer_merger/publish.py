"""Effects of one matcher step -> records for the downstream topics, and revision bookkeeping.

Golden records are rebuilt from their members (:mod:`golden`) and published only when their
content changed; a removed golden record (merged away, emptied, erased) and a removed crosswalk
entry are published as tombstones, so the compacted topics hold exactly the live state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from bus.service import Emit
from schemas.common.models import EventMetadata, SourceRef
from schemas.customers import (
    CrosswalkEntry,
    CustomerMatchReview,
    CustomerMergeEvent,
    GoldenCustomer,
    MatchEvidence,
    MergeKind,
)
from services.customer_merger.golden import content_hash, summarize, survive
from services.customer_merger.merge import Effects, Ledger
from services.customer_merger.records import MatchInput, SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

__all__ = ["Publisher"]

_EVENT_NS = uuid5(NAMESPACE_URL, "urn:esb:customer-merger")


class Publisher:
    def __init__(self, settings: CustomerMergerSettings) -> None:
        self._settings = settings

    def _metadata(
        self, item: MatchInput, event_type: str, entity: str, native_id: str, salt: str
    ) -> EventMetadata:
        at = datetime.fromtimestamp(item.occurred_at_ms / 1000, UTC)
        return EventMetadata(
            event_id=uuid5(_EVENT_NS, f"{event_type}|{native_id}|{salt}"),
            event_type=event_type,
            occurred_at=at,
            ingested_at=at,
            source=SourceRef(
                system="esb", account=self._settings.service_name, entity=entity, native_id=native_id
            ),
            correlation_id=item.event_id,
            causation_id=item.event_id,
        )

    def emits(self, effects: Effects, ledger: Ledger, item: MatchInput) -> list[Emit]:
        s = self._settings
        out: list[Emit] = []
        for golden_id in sorted(effects.removed_goldens):
            out.append(Emit(s.golden_topic, golden_id, None))
        for golden_id in sorted(effects.goldens):
            golden = self._golden(ledger, golden_id, item)
            if golden is not None:
                out.append(Emit(s.golden_topic, golden_id, golden))
        for customer_id in sorted(effects.removed_crosswalk):
            out.append(Emit(s.crosswalk_topic, customer_id, None))
        for customer_id in sorted(effects.crosswalk):
            entry = ledger.entry(customer_id)
            if entry is None:
                continue
            record = SourceRecord.from_state(entry["r"])
            out.append(
                Emit(
                    s.crosswalk_topic,
                    customer_id,
                    CrosswalkEntry(
                        metadata=self._metadata(
                            item,
                            "customer.crosswalk.linked",
                            "crosswalk",
                            customer_id,
                            f"{entry['g']}|{item.event_id}",
                        ),
                        customer_id=UUID(customer_id),
                        source=record.source,
                        golden_id=UUID(entry["g"]),
                        evidence=[MatchEvidence.model_validate(e) for e in entry.get("ev", [])],
                    ),
                )
            )
        for note in effects.merges:
            event = CustomerMergeEvent(
                metadata=self._metadata(
                    item,
                    f"customer.golden.{note.kind.lower()}d",
                    "golden-customer",
                    note.survivor,
                    item.event_id,
                ),
                kind=MergeKind(note.kind),
                surviving_golden_id=UUID(note.survivor),
                other_golden_ids=[UUID(g) for g in note.others],
                source_customer_ids=[UUID(c) for c in note.moved],
                evidence=[MatchEvidence.model_validate(e) for e in note.evidence],
            )
            out.append(Emit(s.merges_topic, note.survivor, event))
        for review in effects.reviews:
            review_id = uuid5(
                _EVENT_NS, f"review|{review.customer_id}|{','.join(review.candidates)}|{review.reason}"
            )
            out.append(
                Emit(
                    s.reviews_topic,
                    review.customer_id,
                    CustomerMatchReview(
                        metadata=self._metadata(
                            item, "customer.match.review", "match-review", str(review_id), item.event_id
                        ),
                        review_id=review_id,
                        customer_id=UUID(review.customer_id),
                        golden_id=UUID(review.golden_id),
                        candidate_golden_ids=[UUID(g) for g in review.candidates],
                        reason=review.reason,
                        evidence=[MatchEvidence.model_validate(e) for e in review.evidence],
                    ),
                )
            )
        return out

    def _golden(self, ledger: Ledger, golden_id: str, item: MatchInput) -> GoldenCustomer | None:
        state = ledger.golden(golden_id)
        if state is None:
            return None
        records = [r for r in (ledger.record(cid) for cid in state["m"]) if r is not None]
        values, lineage = survive(records, self._settings)
        facts: dict[str, Any] = {}
        for cid in state["m"]:
            facts.update(ledger.books.get(f"o:{cid}") or {})
        summary = summarize(facts)
        digest = content_hash(values, lineage, summary)
        if digest == state.get("h"):
            return None
        revision = int(state.get("rev", 0)) + 1
        ledger.books.put(f"g:{golden_id}", {**state, "rev": revision, "h": digest})
        return GoldenCustomer(
            metadata=self._metadata(
                item, "customer.golden.updated", "golden-customer", golden_id, str(revision)
            ),
            golden_id=UUID(golden_id),
            revision=revision,
            lineage=lineage,
            summary=summary,
            **values,
        )
