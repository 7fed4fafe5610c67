"""The service declaration through the runtime's own record path (Avro codecs on a mock registry)."""

from __future__ import annotations

import pytest

from bus.testing import InMemoryBus
from schemas.ledger import JournalEntryEvent, PayoutReconciliationEvent
from schemas.payments import PaymentEvent
from services.ledger_poster.chart import load_chart
from services.ledger_poster.service import build_service
from services.ledger_poster.settings import DEFAULT_CHART, LedgerPosterSettings
from tests.unit.ledger_support import translate

pytestmark = pytest.mark.unit


def test_payments_in_entries_and_reconciliation_out_bad_events_dead_lettered() -> None:
    settings = LedgerPosterSettings()
    bus = InMemoryBus()
    bus.deploy(build_service(settings, load_chart(DEFAULT_CHART)))
    for name in ("event_charge.succeeded.json", "event_charge.refunded.json", "event_payout.paid.json"):
        (event,) = translate("stripe", "events", f"stripe/{name}", "acme")
        assert isinstance(event, PaymentEvent)
        data = bus.encode(settings.payments_topic, event)
        bus.publish(settings.payments_topic, data, key=str(event.payment_id).encode())
    (unroutable,) = translate("stripe", "events", "stripe/event_charge.succeeded.json", "acme")
    foreign = unroutable.model_copy(
        update={"amount": unroutable.amount.model_copy(update={"currency": "CHF"})}
    )
    bus.publish(settings.payments_topic, bus.encode(settings.payments_topic, foreign), key=b"x")

    entries = [bus.decode(settings.entries_topic, r.value) for r in bus.topics[settings.entries_topic]]
    assert all(isinstance(e, JournalEntryEvent) for e in entries)
    assert [e.source_document.type for e in entries] == ["capture", "refund", "payout"]
    assert [r.key for r in bus.topics[settings.entries_topic]] == [str(e.entry_id).encode() for e in entries]
    (raw,) = bus.topics[settings.reconciliations_topic]
    reconciliation = bus.decode(settings.reconciliations_topic, raw.value)
    assert isinstance(reconciliation, PayoutReconciliationEvent)
    assert str(reconciliation.difference.amount) == "-8.0000"
    (dead,) = bus.topics[f"dlq.{settings.service_name}"]
    assert b"no CHF->USD rate" in b" ".join(value for _, value in dead.headers)
