"""A two-service chain on the real broker is one trace in Jaeger; health and metrics are served."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from bus.config import BusSettings, KafkaSettings, RuntimeSettings, SchemaRegistrySettings, TelemetrySettings
from bus.runtime import build_runtime
from bus.serde import AvroCodec
from bus.service import Context, Event, Input, Outgoing, Service
from services.examples.avro_map.service import SCALED_SCHEMA, AvroMapSettings, Scaled, build_service
from tests.infra import StackEndpoints
from tests.integration.runtime.harness import AmountFeed, in_thread, wait_until

pytestmark = pytest.mark.integration


def _settings(stack: StackEndpoints, tmp_path: Path) -> BusSettings:
    return BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url, auto_register=True),
        telemetry=TelemetrySettings(exporter_otlp_endpoint=stack.otlp_http_endpoint),
        runtime=RuntimeSettings(
            state_dir=tmp_path, http_port=0, http_host="127.0.0.1", commit_interval_ms=50
        ),
    )


def test_chain_is_one_trace_in_jaeger_with_health_and_metrics(
    stack: StackEndpoints, create_topic: Callable[..., str], unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    amounts, scaled = create_topic("amounts", 2), create_topic("scaled", 2)
    mapper_name, sink_name = unique_name("mapper"), unique_name("sink")
    seen: list[int] = []

    def sink(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        seen.append(event.value.scaled)
        return []

    settings = _settings(stack, tmp_path)
    mapper = build_runtime(
        build_service(AvroMapSettings(service_name=mapper_name, input_topic=amounts, output_topic=scaled)),
        settings,
    )
    sink_service = Service(
        name=sink_name, inputs=[Input(scaled, AvroCodec(Scaled, SCALED_SCHEMA))], outputs=[], handler=sink
    )
    sink_runtime = build_runtime(sink_service, settings)
    with in_thread(mapper) as mapper_errors, in_thread(sink_runtime) as sink_errors:
        assert mapper.http is not None
        base = f"http://127.0.0.1:{mapper.http.port}"
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        assert wait_until(
            lambda: httpx.get(f"{base}/readyz", timeout=5).status_code == 200, timeout=60, interval=0.3
        )

        trace_id = uuid.uuid4().hex
        traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01".encode()
        feed = AmountFeed(stack, amounts)
        # The upstream hop (a gateway) carries a W3C traceparent.
        feed.send(feed.amount(account="a", value=7), headers=[("traceparent", traceparent)])
        feed.flush()
        assert wait_until(lambda: seen == [700], timeout=60, interval=0.2)
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        assert f'esb_records_in_total{{service="{mapper_name}",topic="{amounts}"}} 1.0' in metrics
        assert f'esb_records_out_total{{service="{mapper_name}",topic="{scaled}"}} 1.0' in metrics
        assert f'esb_handler_seconds_count{{service="{mapper_name}",topic="{amounts}"}} 1.0' in metrics
    assert mapper_errors == []
    assert sink_errors == []

    spans: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(spans) < 3:
        response = httpx.get(f"{stack.jaeger_query_url}/api/traces/{trace_id}", timeout=5)
        if response.status_code == 200 and response.json().get("data"):
            spans = response.json()["data"][0]["spans"]
            processes = response.json()["data"][0]["processes"]
        time.sleep(0.5)
    names = sorted(span["operationName"] for span in spans)
    assert names == [f"process {amounts}", f"process {scaled}", f"send {scaled}"]
    assert {span["traceID"] for span in spans} == {trace_id}
    services = {processes[span["processID"]]["serviceName"] for span in spans}
    assert services == {mapper_name, sink_name}
