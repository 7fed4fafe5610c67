"""Customer lookups, served by the runtime as interactive queries on the matcher's ops port.

- ``GET /customers/{golden_id}`` -> the golden record (survived values, lineage, members with
  their match evidence, Customer 360 summary); 404 when there is none;
- ``GET /customers?email=...`` / ``GET /customers?phone=...`` -> ``{"customers": [...]}``, the
  golden records of the people with that (normalised) email or phone (an empty list when none).

The runtime answers from the committed state (``bus.query``: what the last checkpoint wrote, never
an open transaction's overlay), so an answer never shows something a crash could take back; it
answers 503 while the store is being restored. An erased person is not found: erasure deletes
every key this module reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bus.query import NotFoundError, Query, StateSnapshot
from services.customer_merger.books import Books, ReadableStore
from services.customer_merger.golden import summarize, survive
from services.customer_merger.merge import Effects, Ledger
from services.customer_merger.normalize import normalize_email, normalize_phone
from services.customer_merger.records import SourceRecord
from services.customer_merger.settings import CustomerMergerSettings

__all__ = ["CustomerQueries", "customer_queries"]


def customer_queries(settings: CustomerMergerSettings, store: str) -> list[Query]:
    """The matcher's ``Service(queries=...)`` over its store ``store``."""

    def by_id(params: Mapping[str, str], state: StateSnapshot) -> dict[str, Any] | None:
        return CustomerQueries(state.store(store), settings).golden(params["golden_id"])

    def search(params: Mapping[str, str], state: StateSnapshot) -> dict[str, Any]:
        queries = CustomerQueries(state.store(store), settings)
        if "email" in params:
            return {"customers": queries.by_email(params["email"])}
        if "phone" in params:
            return {"customers": queries.by_phone(params["phone"])}
        raise NotFoundError("use /customers/{golden_id}, /customers?email= or /customers?phone=")

    return [Query("/customers/{golden_id}", by_id), Query("/customers", search)]


class CustomerQueries:
    """Lookups over one read-only view of the merger's store."""

    def __init__(self, view: ReadableStore, settings: CustomerMergerSettings) -> None:
        """``view``: the committed store (``StateSnapshot.store``), or any ``get(key, default)``."""
        self._view = view
        self._settings = settings

    def _ledger(self) -> Ledger:
        return Ledger(Books(self._view, "read-only"), Effects())

    def golden(self, golden_id: str) -> dict[str, Any] | None:
        ledger = self._ledger()
        state = ledger.golden(golden_id)
        if state is None:
            return None
        members: list[dict[str, Any]] = []
        records: list[SourceRecord] = []
        facts: dict[str, Any] = {}
        for customer_id in state["m"]:
            entry = ledger.entry(customer_id)
            if entry is None:
                continue
            record = SourceRecord.from_state(entry["r"])
            records.append(record)
            facts.update(ledger.books.get(f"o:{customer_id}") or {})
            members.append(
                {
                    "customer_id": customer_id,
                    "source": record.source.model_dump(mode="json"),
                    "evidence": entry["ev"],
                }
            )
        values, lineage = survive(records, self._settings)
        summary = summarize(facts)
        values.pop("members", None)
        return {
            "golden_id": golden_id,
            "revision": state.get("rev", 0),
            **{name: _plain(value) for name, value in values.items()},
            "lineage": lineage,
            "members": members,
            "summary": summary.model_dump(mode="json") if summary is not None else None,
        }

    def by_email(self, email: str) -> list[dict[str, Any]]:
        normalized = normalize_email(email, self._settings.email)
        return self._by_key(f"b:e:{normalized}") if normalized else []

    def by_phone(self, phone: str) -> list[dict[str, Any]]:
        normalized = normalize_phone(phone, self._settings.default_region)
        return self._by_key(f"b:p:{normalized}") if normalized else []

    def _by_key(self, key: str) -> list[dict[str, Any]]:
        ledger = self._ledger()
        goldens = sorted({g for g in (ledger.golden_of(c) for c in ledger.books.get(key) or ()) if g})
        return [answer for answer in (self.golden(g) for g in goldens) if answer is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value
