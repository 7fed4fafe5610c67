"""The ledger poster on the real broker, killed with SIGKILL while it posts.

Random order lives (orders, partial captures with fees, chargebacks, partial and full refunds; USD,
EUR, GBP and JPY; two entities) are fed while the process is killed and restarted. Afterwards: no
entry id appears twice on the journal topic, the entries are exactly those a pure recomputation posts,
the trial balance served over HTTP equals the recomputation and nets to zero, every payout reconciles,
and nothing was dead-lettered.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from esb.devstack.processes import free_port
from schemas.base import AvroRecord
from schemas.common.models import Money
from schemas.ledger import FxRate, JournalEntryEvent, PayoutReconciliationEvent, ReconciliationStatus
from schemas.loader import schema_text
from schemas.payments import PaymentEvent, PaymentEventKind, PayoutDetails
from services.ledger_poster.handler import STORE_LEDGER, STORES
from services.ledger_poster.trial_balance import combine, tb_key
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.runtime.harness import (
    ServiceProcess,
    committed_total,
    read_all,
    running,
    service_env,
    wait_until,
)
from tests.ledger_scenarios import START, build, fix_keys, random_plan
from tests.unit.ledger_support import TOPICS, Driver, fx_rate, meta

pytestmark = pytest.mark.integration

PARTITIONS = 3
ORDERS = 400
KILLS = 3
RATES = {"USD": "1.0871", "GBP": "0.8564", "JPY": "162.37"}


class _Feed:
    def __init__(self, stack: StackEndpoints) -> None:
        self._registry = SchemaRegistryClient(
            {"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S}
        )
        self._serializers: dict[type[AvroRecord], AvroSerializer] = {}
        self._producer = Producer({"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True})

    def send(self, topic: str, key: str, value: AvroRecord, partition: int | None = None) -> None:
        model = type(value)
        if model not in self._serializers:
            self._serializers[model] = AvroSerializer(
                self._registry, schema_text(model.avro_name()), lambda v, _ctx: v.to_avro()
            )
        data = self._serializers[model](value, SerializationContext(topic, MessageField.VALUE))
        kwargs: dict[str, Any] = {} if partition is None else {"partition": partition}
        while True:
            try:
                self._producer.produce(topic, data, key=key.encode(), **kwargs)
                break
            except BufferError:
                self._producer.poll(0.05)
        self._producer.poll(0)

    def flush(self) -> None:
        assert self._producer.flush(30) == 0


def _decode(stack: StackEndpoints, model: type[AvroRecord], topic: str) -> list[Any]:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    decoder = AvroDeserializer(registry, schema_text(model.avro_name()), lambda d, _ctx: model.from_avro(d))
    return [
        decoder(m.value(), SerializationContext(topic, MessageField.VALUE))
        for m in read_all(stack.bootstrap_servers, topic, PARTITIONS, timeout=120)
    ]


def _http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a local test server
        return json.load(response)


def test_kill9_while_posting_keeps_the_ledger_exact(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    kafka_admin: AdminClient,
) -> None:
    names = {field: create_topic(f"lp-{field}", PARTITIONS) for field in TOPICS.__dataclass_fields__}
    service = unique_name("ledger")
    port = free_port()
    rng = random.Random(29)

    # What the bus must end up with: the same events through the pure handler, in memory.
    expected = Driver(partitions=PARTITIONS)
    rates: list[FxRate] = [fx_rate("EUR", quote, rate, START.date()) for quote, rate in RATES.items()]
    events: list[tuple[str, str, Any]] = []
    for n in range(ORDERS):
        order_events, _ = build(random_plan(rng), n, day=n % 5)
        events += fix_keys(order_events)
    for rate in rates:
        expected.feed(TOPICS.rates, "r", rate)
    for topic, key, value in events:
        expected.feed(topic, key, value)
    payouts = _payouts(expected)
    for payout in payouts:
        expected.feed(TOPICS.payments, str(payout.payment_id), payout)
    assert len(expected.entries) > ORDERS
    assert len(expected.reconciliations) == len(payouts)

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        env = service_env(
            stack,
            tmp / "state",
            ESB_INSTANCE_ID="0",
            ESB_COMMIT_INTERVAL_MS="50",
            LEDGER_POSTER_SERVICE_NAME=service,
            LEDGER_POSTER_ORDERS_TOPIC=names["orders"],
            LEDGER_POSTER_PAYMENTS_TOPIC=names["payments"],
            LEDGER_POSTER_RETURNS_TOPIC=names["returns"],
            LEDGER_POSTER_RATES_TOPIC=names["rates"],
            LEDGER_POSTER_ENTRIES_TOPIC=names["entries"],
            LEDGER_POSTER_SETTLEMENT_TOPIC=names["settlement"],
            LEDGER_POSTER_RECONCILIATIONS_TOPIC=names["reconciliations"],
            LEDGER_POSTER_QUERY_PORT=str(port),
            LEDGER_POSTER_QUERY_HOST="127.0.0.1",
            LEDGER_POSTER_QUERY_PARTITIONS=str(PARTITIONS),
            LEDGER_POSTER_QUERY_DIR=str(tmp / "query"),
        )
        process = ServiceProcess("services.ledger_poster", env, tmp / "service.log")
        feed = _Feed(stack)
        with running([process]):
            process.start()
            # Rates first, on every partition; postings start once the poster holds them.
            for rate in rates:
                for partition in range(PARTITIONS):
                    feed.send(names["rates"], f"{rate.base_currency}/{rate.quote_currency}", rate, partition)
            feed.flush()
            sent_rates = len(rates) * PARTITIONS
            assert wait_until(
                lambda: (
                    committed_total(stack.bootstrap_servers, service, names["rates"], PARTITIONS)
                    >= sent_rates
                ),
                timeout=120,
            ), "the poster did not take the rates"

            kill_at = sorted(rng.sample(range(len(events)), KILLS))
            for i, (topic, key, value) in enumerate(events):
                feed.send(names[topic], key, value)  # the in-memory topic names are the field names
                if kill_at and i == kill_at[0]:
                    kill_at.pop(0)
                    feed.flush()
                    time.sleep(rng.uniform(0.5, 2.0))  # let it get into the middle of a batch
                    process.kill()
                    process.start()
            feed.flush()
            assert wait_until(lambda: _count(stack, names, service) >= len(events), timeout=240)
            # Payouts only once every clearing movement has reached its settlement partition.
            assert wait_until(lambda: _drained(stack, service, names["settlement"]), timeout=240)
            for payout in payouts:
                feed.send(names["payments"], str(payout.payment_id), payout)
            feed.flush()

            want = len(expected.entries)
            assert wait_until(
                lambda: len(read_all(stack.bootstrap_servers, names["entries"], PARTITIONS)) >= want,
                timeout=240,
            )
            assert wait_until(
                lambda: (
                    len(read_all(stack.bootstrap_servers, names["reconciliations"], PARTITIONS))
                    >= len(payouts)
                ),
                timeout=240,
            )
            # The trial balance over HTTP, per entity and period, equals the recomputation.
            for entity, period in sorted(
                {(e.legal_entity, e.accounting_period or "") for e in expected.entries}
            ):
                want_rows = _rows(combine(expected.store_values(STORE_LEDGER, tb_key(entity, period))))
                url = f"http://127.0.0.1:{port}/trial-balance/{entity}/{period}"
                assert wait_until(
                    lambda url=url, want_rows=want_rows: _served(url) == want_rows, timeout=60
                ), url
                report = _http_json(url)
                assert report["balanced"] is True
            assert process.stop() == 0
        assert process.kills == KILLS

        entries: list[JournalEntryEvent] = _decode(stack, JournalEntryEvent, names["entries"])
        counts = Counter(e.entry_id for e in entries)
        assert [i for i, c in counts.items() if c > 1] == []
        assert set(counts) == {e.entry_id for e in expected.entries}
        by_id = {e.entry_id: e for e in entries}
        assert all(by_id[e.entry_id].lines == e.lines for e in expected.entries)

        recs: list[PayoutReconciliationEvent] = _decode(
            stack, PayoutReconciliationEvent, names["reconciliations"]
        )
        assert len(recs) == len(payouts)
        assert {r.status for r in recs} == {ReconciliationStatus.MATCHED}
        assert read_all(stack.bootstrap_servers, f"dlq.{service}", 1) == []

    runtime_topics = [f"dlq.{service}"] + [f"{service}.{store}.changelog" for store in STORES]
    for future in kafka_admin.delete_topics(runtime_topics).values():
        future.result(timeout=30)


def _count(stack: StackEndpoints, names: dict[str, str], service: str) -> int:
    return sum(
        committed_total(stack.bootstrap_servers, service, names[field], PARTITIONS)
        for field in ("orders", "payments", "returns")
    )


def _drained(stack: StackEndpoints, group: str, topic: str) -> bool:
    """The group has consumed every committed record of ``topic`` (transaction markers aside)."""
    ends: dict[int, int] = {}
    for message in read_all(stack.bootstrap_servers, topic, PARTITIONS):
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
    consumer = Consumer({"bootstrap.servers": stack.bootstrap_servers, "group.id": group})
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
    finally:
        consumer.close()
    return all(tp.offset >= ends.get(tp.partition, 0) for tp in committed)


def _rows(balance: dict[str, list[Decimal]]) -> dict[str, list[str]]:
    return {key: [str(v) for v in row] for key, row in sorted(balance.items()) if any(row)}


def _served(url: str) -> dict[str, list[str]]:
    report = _http_json(url)
    return {
        f"{row['account']}|{row['currency']}": [
            str(Decimal(row[k])) for k in ("debit", "credit", "functional_debit", "functional_credit")
        ]
        for row in report["accounts"]
    }


def _payouts(driver: Driver) -> list[PaymentEvent]:
    """Pay out each settlement account's clearing balance two days after the last order."""
    balances: dict[tuple[str, str, str], Decimal] = {}
    for entry in driver.entries:
        for line in entry.lines:
            if "flow" in line.dimensions:
                key = (
                    line.dimensions["processor"],
                    line.dimensions["merchant_account"],
                    line.amount.currency,
                )
                signed = line.amount.amount if line.side.value == "DEBIT" else -line.amount.amount
                balances[key] = balances.get(key, Decimal(0)) + signed
    at = START + timedelta(days=7)
    out = []
    for i, ((processor, merchant, currency), balance) in enumerate(sorted(balances.items())):
        if balance <= 0:
            continue
        out.append(
            PaymentEvent(
                metadata=meta("payout.paid", at, processor, merchant, "payout", f"po-{i}"),
                kind=PaymentEventKind.PAYOUT,
                payment_id=uuid.uuid5(uuid.NAMESPACE_URL, f"ledger-it-po-{i}"),
                transaction_id=uuid.uuid5(uuid.NAMESPACE_URL, f"ledger-it-po-tx-{i}"),
                processor=processor,
                processor_reference=f"po-{i}",
                amount=Money(amount=balance, currency=currency),
                payout=PayoutDetails(payout_reference=f"po-{i}", status="paid"),
                processed_at=at,
            )
        )
    return out
