"""``esb ingest`` against the real broker: X12 split per transaction set, CSV feeds, exit codes."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from typer.testing import CliRunner

from esb.cli import app
from services.gateway.ingest.x12 import split_interchange
from tests.gateway_support import CONFORMANCE
from tests.infra import StackEndpoints
from tests.integration.test_gateway_kafka import read_all

pytestmark = pytest.mark.integration

SETS = ("850", "856", "940", "945")


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    value = f"t{uuid.uuid4().hex[:10]}."
    names = [f"{value}ingress.edi.{s}" for s in SETS] + [f"{value}ingress.acme-wms.stock"]
    for future in kafka_admin.create_topics([NewTopic(n, 1, replication_factor=-1) for n in names]).values():
        future.result(timeout=30)
    yield value
    for future in kafka_admin.delete_topics(names).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def test_ingest_folder_of_edi_and_a_csv_feed(stack: StackEndpoints, prefix: str, tmp_path: Path) -> None:
    for source in (CONFORMANCE / "edi_x12").glob("*.edi"):
        shutil.copy(source, tmp_path / source.name)
    env = {"KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers, "INGEST_TOPIC_PREFIX": prefix}
    result = CliRunner().invoke(app, ["ingest", "edi", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "4 records written" in result.output
    for set_id in SETS:
        (record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.edi.{set_id}")
        document = next((CONFORMANCE / "edi_x12").glob(f"{set_id}_*.edi")).read_bytes()
        (expected,) = split_interchange(document)
        assert record.value() == expected.raw
        headers = dict(record.headers())
        assert headers["x12-set-id"] == set_id.encode()
        assert headers["esb-event-id"] == expected.event_id.encode()
        assert headers["x12-isa"].startswith(b"ISA")

    feed = tmp_path / "stock.csv"
    feed.write_bytes(b"sku,location,on_hand\nA-1,WH1,5\nB-2,WH1,0\n")
    result = CliRunner().invoke(app, ["ingest", "acme-wms", str(feed)], env=env)
    assert result.exit_code == 0, result.output
    (record,) = read_all(stack.bootstrap_servers, f"{prefix}ingress.acme-wms.stock")
    assert record.value() == feed.read_bytes()


def test_ingest_reports_a_broken_file_and_a_missing_topic(
    stack: StackEndpoints, prefix: str, tmp_path: Path
) -> None:
    (tmp_path / "broken.edi").write_bytes(b"ISA*00*short~")
    env = {"KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers, "INGEST_TOPIC_PREFIX": prefix}
    result = CliRunner().invoke(app, ["ingest", "edi", str(tmp_path / "broken.edi")], env=env)
    assert result.exit_code == 1
    assert "rejected" in result.output
    (tmp_path / "f.csv").write_bytes(b"a,b\n1,2\n")
    env["INGEST_DELIVERY_TIMEOUT_MS"] = "3000"
    result = CliRunner().invoke(app, ["ingest", "no-such-system", str(tmp_path / "f.csv")], env=env)
    assert result.exit_code == 1
    assert "not written" in result.output
