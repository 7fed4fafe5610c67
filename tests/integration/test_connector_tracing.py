"""The delivery to the target is the last hop of the record's trace, in the real Jaeger.

The connector runs as its own process on the real broker and exports over OTLP. For each egress
record it opens a ``process`` span parented on the record's traceparent and, inside it, an HTTP
CLIENT span per call, whose context reaches the target in the ``traceparent`` request header. A
document the target refuses leaves a failed ``process`` span that says so.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from services.egress import netsuite
from tests import egress_support as samples
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import ServiceProcess, running, service_env, wait_until
from tests.recording_server import Answer, Recorded, RecordingServer, netsuite_error

pytestmark = pytest.mark.integration


def _traceparent() -> tuple[str, str, bytes]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01".encode()


def _jaeger_trace(stack: StackEndpoints, trace_id: str, spans: int) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def complete() -> bool:
        nonlocal found
        response = httpx.get(f"{stack.jaeger_query_url}/api/traces/{trace_id}", timeout=5)
        data = response.json().get("data") if response.status_code == 200 else None
        found = data[0] if data else {}
        return len(found.get("spans", [])) >= spans

    wait_until(complete, timeout=60)
    assert found, f"Jaeger has no trace {trace_id}"
    return found


def _parent(span: dict[str, Any]) -> str | None:
    return next((ref["spanID"] for ref in span["references"] if ref["refType"] == "CHILD_OF"), None)


def _tags(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span["tags"]}


def test_a_delivery_joins_the_records_trace_and_carries_it_to_the_target(
    stack: StackEndpoints,
    create_topic: Callable[..., str],
    unique_name: Callable[[str], str],
    kafka_admin: AdminClient,
    tmp_path: Path,
) -> None:
    topic = create_topic("egress.netsuite.sales-orders", 1)
    service = unique_name("delivery").replace(".", "-")
    delivered_doc = netsuite.sales_order(samples.order_event(name="7001"), samples.NETSUITE)
    refused_doc = netsuite.sales_order(samples.order_event(name="7002"), samples.NETSUITE)
    refused_id = dict(refused_doc.headers())["esb.egress.external-id"].decode()
    method = dict(delivered_doc.headers())["esb.egress.method"].decode()  # the HTTP span's name
    delivered_trace, delivered_parent, delivered_header = _traceparent()
    refused_trace, refused_parent, refused_header = _traceparent()
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    for doc, header in ((delivered_doc, delivered_header), (refused_doc, refused_header)):
        producer.produce(
            topic, doc.body, key=b"k", headers=[*dict(doc.headers()).items(), ("traceparent", header)]
        )
    assert producer.flush(30) == 0

    def answer(request: Recorded) -> Answer:
        if refused_id in request.path:
            return Answer(400, netsuite_error("INVALID_KEY_OR_REF", "Invalid entity reference key 1842."))
        return Answer(204, b"")

    with RecordingServer() as server:
        server.rule = answer
        env = service_env(
            stack,
            tmp_path / "state",
            ESB_GUARANTEE="at_least_once",
            CONNECTOR_SERVICE_NAME=service,
            CONNECTOR_TOPICS=json.dumps([topic]),
            CONNECTOR_ACCOUNTS=json.dumps(
                {"1234567": {"base_url": server.url, "auth": "bearer", "token": "t", "rate_per_second": 50}}
            ),
            OTEL_EXPORTER_OTLP_ENDPOINT=stack.otlp_http_endpoint,
        )
        connector = ServiceProcess("services.connectors", env, tmp_path / "connector.log")
        with running([connector]):
            connector.start()
            log = tmp_path / "connector.log"
            assert wait_until(lambda: len(server.writes()) >= 2, timeout=120), log.read_text()
            assert connector.stop() == 0  # flushes the batched spans
        sent = {request.path: request.headers for request in server.writes()}

    trace = _jaeger_trace(stack, delivered_trace, spans=2)
    services = {key: process["serviceName"] for key, process in trace["processes"].items()}
    assert set(services.values()) == {service}
    by_name = {span["operationName"]: span for span in trace["spans"]}
    assert set(by_name) == {f"process {topic}", method}
    process, call = by_name[f"process {topic}"], by_name[method]
    assert _parent(process) == delivered_parent, "the process span is not the record's child"
    assert _parent(call) == process["spanID"], "the HTTP call is not inside the process span"
    assert _tags(process)["esb.sink.outcome"] == "done"
    assert _tags(process)["messaging.kafka.offset"] == 0
    assert _tags(call)["http.response.status_code"] == 204
    delivered_path = next(path for path in sent if refused_id not in path)
    assert sent[delivered_path]["traceparent"] == f"00-{delivered_trace}-{call['spanID']}-01"

    refused = {span["operationName"]: span for span in _jaeger_trace(stack, refused_trace, spans=2)["spans"]}
    assert _parent(refused[f"process {topic}"]) == refused_parent
    assert _tags(refused[f"process {topic}"])["esb.sink.outcome"] == "reject"
    assert _tags(refused[f"process {topic}"])["otel.status_code"] == "ERROR"
    assert "HTTP 400" in _tags(refused[f"process {topic}"])["otel.status_description"]
    assert _tags(refused[method])["http.response.status_code"] == 400

    for future in kafka_admin.delete_topics([f"dlq.{service}"]).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)
