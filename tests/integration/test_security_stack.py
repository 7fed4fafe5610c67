"""The secure stack end to end: SASL_SSL + SCRAM, the StandardAuthorizer, catalog-derived ACLs, audit.

One secure single-node Kafka (its own state folder and ports 30092/30093, never the shared test
stack's) is started for this module and purged at its end. Avro schemas go to the shared test
registry under subjects unique to this run. No assertion message ever contains a secret: leak
checks report where and which credential, by name.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from typer.testing import CliRunner

from bus.observability.redaction import find_card_numbers
from esb.devstack import secure
from esb.devstack import stack as devstack
from esb.devstack.processes import free_port
from esb.devstack.settings import DevStackSettings
from esb.governance.catalog import Catalog
from esb.security.acls import Grant, apply_plan, derive_grants, plan_acls
from esb.security.audit import AUDIT_TOPIC, AuditAction, read_audit
from esb.security.cli import acls_app
from services.examples.running_total.models import AMOUNT_SCHEMA, TOTAL_SCHEMA, Amount
from tests.gateway_support import shopify_headers
from tests.infra import REGISTRY_TIMEOUT_S, REPO_ROOT, StackEndpoints
from tests.integration import secure_flow_service as flow

pytestmark = pytest.mark.integration

PRINCIPALS = ["gateway", "order-notes", "running-total", "feeder", "auditors"]
SHOP = "secure-shop.myshopify.com"
WEBHOOK_SECRET = "shpss_" + uuid.uuid4().hex  # generated per run, looked for in every topic and log
INPUT_CARD = "4111 1111 1111 1111"


@dataclass(frozen=True)
class SecureStack:
    settings: DevStackSettings
    catalog: Catalog
    catalog_file: Path
    amounts: str
    totals: str
    notes: str

    def config(self, principal: str) -> dict[str, str]:
        return secure.client_settings(self.settings, principal).client_config()

    def env(self, principal: str) -> dict[str, str]:
        return secure.client_env(self.settings, principal)


def _topic(name: str, owner: str, consumers: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": "secure-stack test topic",
        "partitions": 1,
        "replication_factor": 1,
        "key": {"description": "k"},
        "value": {"format": "application/octet-stream"},
        "owner": owner,
        "consumers": consumers,
    }


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    state = Path(os.environ.get("ESB_TEST_STATE_DIR", REPO_ROOT / ".esb")) / "test-secure-stack"
    settings = DevStackSettings(state_dir=state, kafka_port=30092, kafka_controller_port=30093)
    devstack.down(settings, purge=True)  # leftovers of an interrupted run of this module only
    suffix = uuid.uuid4().hex[:8]
    amounts, totals, notes = f"sec.amounts.{suffix}", f"sec.totals.{suffix}", f"sec.notes.{suffix}"
    raw = {
        "topics": [
            _topic(flow.INPUT_TOPIC, "gateway", [flow.SERVICE]),
            _topic(notes, flow.SERVICE, ["auditors"]),
            _topic(amounts, "feeder", ["running-total"]),
            _topic(totals, "running-total", ["auditors"]),
            _topic(f"dlq.{flow.SERVICE}", flow.SERVICE, ["operators"]),
            _topic("dlq.running-total", "running-total", ["operators"]),
            _topic(AUDIT_TOPIC, secure.ADMIN_PRINCIPAL, ["auditors"]),
        ]
    }
    catalog = Catalog.model_validate(raw)
    catalog_file = tmp_path_factory.mktemp("secure") / "topics.yaml"
    catalog_file.write_text(yaml.safe_dump(raw))
    devstack.up(settings, kafka_only=True, secure=True, principals=PRINCIPALS)
    try:
        handle = SecureStack(settings, catalog, catalog_file, amounts, totals, notes)
        admin = AdminClient(handle.config(secure.ADMIN_PRINCIPAL))
        # The runtime creates its own DLQs (with its CREATE grant); the admin creates the rest.
        wanted = [NewTopic(t.name, 1, 1) for t in catalog.topics if not t.name.startswith("dlq.")]
        for future in admin.create_topics(wanted).values():
            future.result(timeout=30)
        yield handle
    finally:
        devstack.down(settings, purge=True)


@pytest.fixture(scope="module")
def granted(secure_stack: SecureStack) -> SecureStack:
    """The catalog's ACLs in place (idempotent: the tests may change and re-apply them)."""
    admin = AdminClient(secure_stack.config(secure.ADMIN_PRINCIPAL))
    apply_plan(admin, plan_acls(admin, derive_grants(secure_stack.catalog)))
    return secure_stack


def _first_error(consumer: Consumer, timeout_s: float = 20.0) -> KafkaError | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is not None:
            error: KafkaError = message.error()
            if error.code() != KafkaError._PARTITION_EOF:
                return error
    return None


def _produce_error(config: dict[str, str], topic: str) -> KafkaError | None:
    outcome: list[KafkaError | None] = []
    producer = Producer({**config, "acks": "all", "message.timeout.ms": 15000})
    producer.produce(topic, b"x", on_delivery=lambda error, _msg: outcome.append(error))
    producer.flush(20)
    assert outcome, "no delivery report"
    return outcome[0]


# -- authentication ---------------------------------------------------------------------------------


def test_admin_connects_over_sasl_ssl_and_a_wrong_password_is_refused(secure_stack: SecureStack) -> None:
    admin = AdminClient(secure_stack.config(secure.ADMIN_PRINCIPAL))
    assert AUDIT_TOPIC in admin.list_topics(timeout=15).topics

    errors: list[KafkaError] = []
    wrong = {**secure_stack.config("feeder"), "sasl.password": "not-the-password", "error_cb": errors.append}
    client = AdminClient(wrong)
    with pytest.raises(KafkaException):
        client.list_topics(timeout=5)
    client.poll(1)  # serves the error callbacks
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors)

    # A client without TLS and SASL gets nothing from the only client listener.
    plaintext = AdminClient({"bootstrap.servers": secure_stack.settings.bootstrap_servers(1)})
    with pytest.raises(KafkaException):
        plaintext.list_topics(timeout=5)


# -- least privilege ---------------------------------------------------------------------------------


def test_acls_plan_shows_a_diff_then_apply_then_plan_is_empty_and_is_audited(
    granted: SecureStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = AdminClient(granted.config(secure.ADMIN_PRINCIPAL))
    removed = Grant("User:running-total", "TOPIC", "LITERAL", granted.amounts, "READ")
    stale = Grant("User:running-total", "TOPIC", "LITERAL", granted.notes, "READ")
    for future in admin.delete_acls([removed.exact_filter()]).values():
        future.result(timeout=30)
    for future in admin.create_acls([stale.binding()]).values():
        future.result(timeout=30)

    for name, value in granted.env(secure.ADMIN_PRINCIPAL).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    args = ["--catalog", str(granted.catalog_file)]
    planned = runner.invoke(acls_app, ["plan", *args], terminal_width=200)
    assert planned.exit_code == 0, planned.output
    assert f"+ {removed}" in planned.output
    assert f"- {stale}" in planned.output
    assert "1 to create, 1 to delete" in planned.output

    why = f"test {uuid.uuid4().hex[:8]}: restore the catalog's grants"
    applied = runner.invoke(acls_app, ["apply", "--why", why, *args], terminal_width=200)
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(acls_app, ["plan", *args], terminal_width=200)
    assert "0 to create, 0 to delete" in again.output
    assert plan_acls(admin, derive_grants(granted.catalog)).empty
    noop = runner.invoke(acls_app, ["apply", "--why", "no-op", *args], terminal_width=200)
    assert "nothing to change" in noop.output

    # The auditors read the trail; the record says who, as whom, what, when and why.
    records = [r for r in read_audit(granted.config("auditors")) if r.why == why]
    assert len(records) == 1
    record = records[0]
    assert record.action is AuditAction.ACL_CHANGE
    assert record.principal == secure.ADMIN_PRINCIPAL
    assert record.who
    assert (datetime.now(UTC) - record.when).total_seconds() < 120
    assert record.details["created"] == [str(removed)]
    assert record.details["deleted"] == [str(stale)]


def test_audit_trail_is_written_by_the_admin_only(granted: SecureStack) -> None:
    error = _produce_error(granted.config("running-total"), AUDIT_TOPIC)
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # Reading it is a grant too: a service is not an auditor.
    with pytest.raises(KafkaException, match=r"TOPIC_AUTHORIZATION_FAILED"):
        read_audit(granted.config("running-total"), timeout_s=10)


def test_a_service_cannot_read_outside_its_grants(granted: SecureStack) -> None:
    consumer = Consumer(
        {**granted.config("running-total"), "group.id": "running-total", "auto.offset.reset": "earliest"}
    )
    try:
        consumer.subscribe([granted.notes])  # order-notes' output, not a running-total input
        error = _first_error(consumer)
    finally:
        consumer.close()
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_service_cannot_use_another_services_group(granted: SecureStack) -> None:
    consumer = Consumer({**granted.config("running-total"), "group.id": flow.SERVICE})
    try:
        consumer.subscribe([granted.amounts])  # its own input, but order-notes' group
        error = _first_error(consumer)
    finally:
        consumer.close()
    assert error is not None
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_a_service_cannot_write_another_services_output(granted: SecureStack) -> None:
    error = _produce_error(granted.config("running-total"), granted.notes)
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # ... while its own output is open to it.
    assert _produce_error(granted.config("running-total"), granted.totals) is None


def test_a_service_cannot_take_another_services_transactional_id(granted: SecureStack) -> None:
    producer = Producer({**granted.config("running-total"), "transactional.id": f"{flow.SERVICE}-0"})
    with pytest.raises(KafkaException) as denied:
        producer.init_transactions(20)
    assert denied.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    own = Producer({**granted.config("running-total"), "transactional.id": "running-total-probe"})
    own.init_transactions(20)


# -- the flow over SASL_SSL, and nothing leaks -------------------------------------------------------


class _Process:
    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", module], env=env, cwd=REPO_ROOT, stdout=out, stderr=out
            )

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None


def _base_env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KAFKA_", "ESB_", "RUNNING_TOTAL_", "GATEWAY_", "FLOW_", "SCHEMA_REGISTRY_"))
    }
    env.update(
        {
            "OTEL_SDK_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "ESB_STATE_DIR": str(state_dir),
            "ESB_TRANSACTION_TIMEOUT_MS": "20000",
        }
    )
    env.update(extra)
    return env


def _wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _read_topic(config: dict[str, str], topic: str, timeout_s: float = 30.0) -> list[tuple[bytes, bytes]]:
    """Every committed record of ``topic`` as (key, value) bytes; raises on authorization errors."""
    consumer = Consumer(
        {
            **config,
            "group.id": "esb-secure-scan",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=15).topics[topic]
        partitions = sorted(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        remaining, records = set(partitions), []
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.5):
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise KafkaException(error)
                    remaining.discard(message.partition())
                    continue
                headers = b"".join(v or b"" for _k, v in message.headers() or [])
                records.append((message.key() or b"", (message.value() or b"") + headers))
        assert not remaining, f"did not reach the end of {topic}"
        return records
    finally:
        consumer.close()


# Card numbers as they are written: contiguous, or in groups of four with single spaces or dashes.
_PAN_LIKE = re.compile(
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?)(?![0-9])"
)


def _cards_in(text: str) -> int:
    return sum(len(find_card_numbers(match.group(0))) for match in _PAN_LIKE.finditer(text))


def test_full_flow_over_sasl_ssl_with_own_principals_and_no_secret_or_card_anywhere(
    granted: SecureStack, stack: StackEndpoints, tmp_path: Path
) -> None:
    registry_url = stack.schema_registry_url
    gateway_port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    gateway = _Process(
        "services.gateway",
        _base_env(
            tmp_path / "gateway",
            **granted.env("gateway"),
            GATEWAY_HOST="127.0.0.1",
            GATEWAY_PORT=str(gateway_port),
            GATEWAY_SHOPIFY_SECRETS=json.dumps({SHOP: WEBHOOK_SECRET}),
        ),
        logs / "gateway.log",
    )
    notes = _Process(
        "tests.integration.secure_flow_service",
        _base_env(
            tmp_path / "notes",
            **granted.env(flow.SERVICE),
            SCHEMA_REGISTRY_URL=registry_url,
            FLOW_OUTPUT_TOPIC=granted.notes,
        ),
        logs / "order-notes.log",
    )
    totals = _Process(
        "services.examples.running_total",
        _base_env(
            tmp_path / "totals",
            **granted.env("running-total"),
            SCHEMA_REGISTRY_URL=registry_url,
            SCHEMA_REGISTRY_AUTO_REGISTER="true",
            RUNNING_TOTAL_SERVICE_NAME="running-total",
            RUNNING_TOTAL_INPUT_TOPIC=granted.amounts,
            RUNNING_TOTAL_OUTPUT_TOPIC=granted.totals,
        ),
        logs / "running-total.log",
    )
    processes = [gateway, notes, totals]
    admin = granted.config(secure.ADMIN_PRINCIPAL)
    try:
        # 1. A Shopify order with a card number in it, through the gateway (principal: gateway).
        def gateway_ready() -> bool:
            try:
                return (
                    httpx.get(f"http://127.0.0.1:{gateway_port}/health/ready", timeout=2).status_code == 200
                )
            except httpx.HTTPError:
                return False

        _wait_for(gateway_ready, 60, "the gateway")
        order_id = 820982911946154508
        body = json.dumps(
            {
                "id": order_id,
                "total_price": "42.00",
                "note": "paid with " + INPUT_CARD,
                "payment_details": {"credit_card_number": INPUT_CARD.replace(" ", "")},
            }
        ).encode()
        headers = shopify_headers(body, WEBHOOK_SECRET, SHOP, "orders/create", f"ev-{uuid.uuid4().hex[:8]}")
        response = httpx.post(
            f"http://127.0.0.1:{gateway_port}/webhooks/shopify", content=body, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text

        # 2. Amounts from the feeder principal, Avro via the registry.
        registry = SchemaRegistryClient({"url": registry_url, "timeout": REGISTRY_TIMEOUT_S})
        serialize = AvroSerializer(registry, AMOUNT_SCHEMA, lambda value, _ctx: value.model_dump())
        feeder = Producer({**granted.config("feeder"), "enable.idempotence": True, "acks": "all"})
        for value in (5, 7, 11):
            amount = Amount(
                event_id=str(uuid.uuid4()), account="acct-1", amount=value, occurred_at=datetime.now(UTC)
            )
            data = serialize(amount, SerializationContext(granted.amounts, MessageField.VALUE))
            feeder.produce(granted.amounts, data, key=b"acct-1")
        assert feeder.flush(30) == 0

        # 3. Each service, under its own principal, wrote its output (exactly-once, read_committed).
        _wait_for(lambda: len(_read_topic(admin, granted.notes)) >= 1, 90, "the order note")
        _wait_for(lambda: len(_read_topic(admin, granted.totals)) >= 3, 90, "the running totals")
        assert all(p.alive for p in processes), "a service exited"
        note = json.loads(_read_topic(admin, granted.notes)[0][1].split(b"}", 1)[0] + b"}")
        assert note["order_id"] == str(order_id)
        assert note["total_price"] == "42.00"
        decode = AvroDeserializer(registry, TOTAL_SCHEMA)
        last = _read_topic(admin, granted.totals)[-1][1]
        assert decode(last, SerializationContext(granted.totals, MessageField.VALUE))["total"] == 23
        # The runtime created its DLQ and changelog under the service's own grants.
        topics = AdminClient(admin).list_topics(timeout=15).topics
        assert {"dlq.running-total", "running-total.totals.changelog", f"dlq.{flow.SERVICE}"} <= set(topics)
    finally:
        for process in processes:
            process.stop()

    # 4. Scan every topic and every captured log for card numbers and secrets.
    secrets = {
        path.stem: path.read_text().strip()
        for path in (secure.secrets_dir(granted.settings) / "users").iterdir()
    }
    secrets["webhook-secret"] = WEBHOOK_SECRET
    secrets["leaked-password"] = flow.LEAKED_PASSWORD
    sources: dict[str, str] = {}
    for topic in sorted(AdminClient(admin).list_topics(timeout=15).topics):
        records = _read_topic(admin, topic)
        sources[f"topic {topic}"] = "\n".join((k + b" " + v).decode("latin-1") for k, v in records)
    log_files = [*logs.iterdir(), *(granted.settings.state_dir / "run").glob("kafka-*")]
    for path in log_files:
        sources[f"log {path.name}"] = path.read_text(errors="replace")

    assert sources[f"topic {flow.INPUT_TOPIC}"], "the ingress record is missing"
    assert "order received" in sources["log order-notes.log"], "the service's log was not captured"
    assert "[REDACTED]" in sources["log order-notes.log"]
    assert "XXXX XXXX XXXX 1111" in sources[f"topic {flow.INPUT_TOPIC}"], "the gateway did not mask the card"
    cards = {where: n for where, text in sources.items() if (n := _cards_in(text))}
    leaks = sorted(
        (where, name) for where, text in sources.items() for name, value in secrets.items() if value in text
    )
    assert cards == {}, "card numbers found (where -> count)"
    assert leaks == [], "secrets found (where, which secret)"
