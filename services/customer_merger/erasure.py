"""GDPR/CCPA erasure: the person's golden record(s), every member and everything indexed on them.

An erasure request names the person by a source customer id, a golden id and/or an email. Every
golden record found is erased whole (all its members: they are the same person): source records,
order facts, blocking-index entries and do-not-link lists are deleted (changelog tombstones), and
the handler publishes tombstones for the golden record and each crosswalk entry. An ``er:<id>``
marker (an id, no personal data) keeps later re-deliveries of an erased source record out.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.customer_merger.blocking import blocking_keys, unindex
from services.customer_merger.merge import Ledger

__all__ = ["erase", "goldens_of"]


def goldens_of(
    ledger: Ledger, customer_ids: Iterable[str], golden_ids: Iterable[str], email: str | None
) -> set[str]:
    found = {g for g in golden_ids if ledger.golden(g) is not None}
    for customer_id in customer_ids:
        golden_id = ledger.golden_of(customer_id)
        if golden_id is not None:
            found.add(golden_id)
    if email:
        for customer_id in ledger.books.get(f"b:e:{email}") or ():
            golden_id = ledger.golden_of(customer_id)
            if golden_id is not None:
                found.add(golden_id)
    return found


def erase(
    ledger: Ledger, customer_ids: Iterable[str], golden_ids: Iterable[str], email: str | None
) -> set[str]:
    """Erase every golden record the request identifies; returns their ids."""
    ids = list(customer_ids)
    erased = goldens_of(ledger, ids, golden_ids, email)
    for golden_id in sorted(erased):
        for customer_id in ledger.members(golden_id):
            record = ledger.record(customer_id)
            if record is not None:
                unindex(ledger.books, customer_id, blocking_keys(record))
            ledger.detach(customer_id)
            ledger.books.delete(f"cl:{customer_id}")
            ledger.books.put(f"er:{customer_id}", 1)
    for customer_id in ids:  # known only by id (never matched, or not yet arrived): keep it out
        ledger.books.put(f"er:{customer_id}", 1)
    return erased
