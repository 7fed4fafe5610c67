"""A trace exported over OTLP is found through the real Jaeger query API."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.infra import StackEndpoints

pytestmark = pytest.mark.integration


def test_otlp_trace_is_queryable_in_jaeger(stack: StackEndpoints) -> None:
    service_name = f"esb-probe-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{stack.otlp_http_endpoint}/v1/traces"))
    )
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("order process") as parent:
        parent.set_attribute("esb.order_id", "ord-42")
        with tracer.start_as_current_span("canonical.orders.v1 publish"):
            pass
    trace_id = format(parent.get_span_context().trace_id, "032x")
    provider.shutdown()

    deadline = time.monotonic() + 30
    spans: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.jaeger_query_url}/api/traces/{trace_id}", timeout=5)
        if response.status_code == 200 and response.json().get("data"):
            spans = response.json()["data"][0]["spans"]
            if len(spans) == 2:
                break
        time.sleep(0.5)

    assert sorted(span["operationName"] for span in spans) == ["canonical.orders.v1 publish", "order process"]
    assert {span["traceID"] for span in spans} == {trace_id}
    services = httpx.get(f"{stack.jaeger_query_url}/api/services", timeout=5).json()["data"]
    assert service_name in services
