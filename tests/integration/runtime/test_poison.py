"""Poison records: each lands in the DLQ once with its reason; nothing else is held up."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext
from typer.testing import CliRunner

from bus.dlq import read_dead_letters
from esb.cli import app
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import (
    AmountFeed,
    ServiceProcess,
    committed_total,
    read_all,
    running,
    service_env,
    total_decoder,
    wait_until,
)

pytestmark = pytest.mark.integration

GOOD = 10_000
PARTITIONS = 6


def test_poison_records_are_dead_lettered_once(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, output = create_topic("amounts", PARTITIONS), create_topic("totals", PARTITIONS)
    service = unique_name("poison")
    feed = AmountFeed(stack, source)
    rng = random.Random(5)
    malformed = negative = flaky = 0
    for i in range(GOOD):
        feed.send(feed.amount())
        if i % 100 == 0:  # 1 % malformed bytes: no Confluent magic byte, not Avro
            feed.send_raw(f"acct-{rng.randrange(200):04d}".encode(), b"not avro " + str(i).encode())
            malformed += 1
        if i % 1000 == 1:  # permanently invalid for the handler
            feed.send(feed.amount(value=-5))
            negative += 1
        if i % 2500 == 2:  # transient every time: exhausts the retry budget
            feed.send(feed.amount(account="flaky"))
            flaky += 1
    feed.flush()
    total_in = GOOD + malformed + negative + flaky
    good = [a for a in feed.sent if a.amount >= 0 and a.account != "flaky"]

    env = service_env(
        stack,
        tmp_path / "state",
        RUNNING_TOTAL_SERVICE_NAME=service,
        RUNNING_TOTAL_INPUT_TOPIC=source,
        RUNNING_TOTAL_OUTPUT_TOPIC=output,
        ESB_RETRY_ATTEMPTS="3",
        ESB_RETRY_INITIAL_BACKOFF_MS="10",
        ESB_RETRY_MAX_BACKOFF_MS="40",
    )
    process = ServiceProcess("services.examples.running_total", env, tmp_path / "service.log")
    with running([process]):
        process.start()
        finished = wait_until(
            lambda: committed_total(stack.bootstrap_servers, service, source, PARTITIONS) >= total_in,
            timeout=180,
        )
        assert finished, "some partition never got past its poison records"
        assert process.stop() == 0

    letters = read_dead_letters({"bootstrap.servers": stack.bootstrap_servers}, service)
    positions = Counter((letter.source_partition, letter.source_offset) for letter in letters)
    assert max(positions.values()) == 1, "a record was dead-lettered twice"
    by_stage = Counter(letter.stage for letter in letters)
    assert by_stage == {"deserialize": malformed, "handle": negative + flaky}
    assert sorted(letter.value or b"" for letter in letters if letter.stage == "deserialize") == sorted(
        feed.poison
    )
    for letter in letters:
        assert letter.service == service
        assert letter.source_topic == source
        assert letter.first_failure_at
        if letter.stage == "handle" and "RetryableError" in letter.error_class:
            assert letter.attempt == 3
            assert letter.error_message == "the flaky account never succeeds"
        elif letter.stage == "handle":
            assert letter.error_class == "bus.errors.DeadLetterError"
            assert "negative amount" in letter.error_message
        else:
            assert letter.error_class == "bus.errors.SerdeError"

    decode = total_decoder(stack)
    totals = [
        decode(m.value(), SerializationContext(output, MessageField.VALUE))
        for m in read_all(stack.bootstrap_servers, output, PARTITIONS)
    ]
    assert Counter(t["event_id"] for t in totals) == Counter(a.event_id for a in good)

    # The DLQ command: list, dry-run replay (nothing produced), then replay the negatives elsewhere.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrap_servers)
    cli = CliRunner()
    listed = cli.invoke(app, ["dlq", "list", service, "--filter", "stage=deserialize"])
    assert listed.exit_code == 0, listed.output
    assert f"{malformed} dead letters" in listed.output
    replay_topic = create_topic("replayed", 1)
    audit_topic = create_topic("audit", 1)
    dry = cli.invoke(
        app, ["dlq", "replay", service, "-f", "error-class=DeadLetterError", "--to-topic", replay_topic]
    )
    assert dry.exit_code == 0, dry.output
    assert f"dry run: {negative} dead letters" in dry.output
    assert read_all(stack.bootstrap_servers, replay_topic, 1) == []
    done = cli.invoke(
        app,
        [
            "dlq",
            "replay",
            service,
            "-f",
            "error-class=DeadLetterError",
            "--to-topic",
            replay_topic,
            "--execute",
            "--why",
            "poison test replay",
            "--audit-topic",
            audit_topic,
        ],
    )
    assert done.exit_code == 0, done.output
    replayed = read_all(stack.bootstrap_servers, replay_topic, 1)
    assert len(replayed) == negative
    assert all(dict(m.headers() or [])["esb.replayed-from"] for m in replayed)
    (audit,) = read_all(stack.bootstrap_servers, audit_topic, 1)
    audit_record = json.loads(audit.value())
    assert audit_record["action"] == "dlq.replay"
    assert audit_record["why"] == "poison test replay"
    assert audit_record["details"]["count"] == negative
