"""The composition root of a sink process: settings + a SinkService in, a running sink loop out."""

from __future__ import annotations

import signal
import threading

from confluent_kafka import Consumer, Producer
from opentelemetry.sdk.trace import TracerProvider

from bus.admin import ensure_dlq_topic
from bus.clients import consumer_config, producer_config, static_member
from bus.config import BusSettings
from bus.observability.health import Health, HealthServer
from bus.observability.logging import get_logger
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing, build_tracer_provider
from bus.retry import RetryPolicy
from bus.sink import SinkService
from bus.sink_metrics import SinkMetrics
from bus.sink_runner import SinkRunner

__all__ = ["build_sink_runner", "run_sink"]


def build_sink_runner(
    service: SinkService, settings: BusSettings, tracer_provider: TracerProvider | None = None
) -> tuple[SinkRunner, HealthServer | None]:
    """``tracer_provider``: the one the sink's own clients report to (their spans join the records'
    traces); by default one built from ``settings.telemetry``, as the processing runtime does."""
    rt = settings.runtime
    client = settings.kafka.client_config()
    member = f"{service.name}-{rt.instance_id}"
    client_id = f"{settings.kafka.client_id_prefix}-{member}"
    ensure_dlq_topic(client, service.dlq_topic)
    consumer = Consumer(
        consumer_config(
            client,
            client_id=client_id,
            group=rt.group_of(service.name),
            member=static_member(member, service.inputs),
            session_timeout_ms=rt.session_timeout_ms,
            max_poll_interval_ms=rt.max_poll_interval_ms,
        )
    )
    producer = Producer(producer_config(client, {"client.id": client_id, "linger.ms": 0}))
    metrics = Metrics(service.name)
    health = Health(stall_after_s=rt.max_poll_interval_ms / 1000)
    retry = RetryPolicy(rt.retry_attempts, rt.retry_initial_backoff_ms / 1000, rt.retry_max_backoff_ms / 1000)
    provider = tracer_provider or build_tracer_provider(service.name, rt.instance_id, settings.telemetry)
    runner = SinkRunner(
        service,
        consumer,
        producer,
        SinkMetrics(metrics),
        health,
        retry,
        commit_interval_s=rt.commit_interval_ms / 1000,
        tracing=Tracing(provider, group=rt.group_of(service.name)),
    )
    http = None
    if rt.http_port is not None:
        http = HealthServer(rt.http_host, rt.http_port, health, metrics.registry)
    return runner, http


def run_sink(
    service: SinkService,
    settings: BusSettings,
    stop: threading.Event | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    runner, http = build_sink_runner(service, settings, tracer_provider)
    get_logger(service=service.name).info("starting sink", inputs=list(service.inputs))
    if http is not None:
        http.start()
    try:
        runner.run(stop)
    finally:
        if http is not None:
            http.stop()
