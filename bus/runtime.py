"""The composition root of a service process: settings + a Service in, a running loop out.

Built in ``main()`` (``esb run <service>`` or ``python -m services.<name>``); nothing here runs at
import time. ``run_service`` blocks until SIGTERM/SIGINT (or ``stop`` is set), then commits the
last checkpoint and closes the clients.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer
from opentelemetry.sdk.trace import SpanProcessor

from bus.admin import ensure_runtime_topics
from bus.checkpoint import Checkpoint
from bus.clients import consumer_config, producer_config, static_member
from bus.config import BusSettings, ProcessingGuarantee
from bus.observability.health import Health, HealthServer
from bus.observability.logging import get_logger
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing, build_tracer_provider
from bus.processor import RecordProcessor, StateLookup
from bus.producer import TxnProducer
from bus.query import QueryRouter
from bus.retry import RetryPolicy
from bus.runner import Runner
from bus.serde import BoundCodec, registry_client
from bus.service import Service, StateView
from bus.state import StateManager
from bus.state.global_tables import GlobalTables

__all__ = ["Runtime", "build_runtime", "run_service"]


@dataclass(slots=True)
class Runtime:
    runner: Runner
    tracing: Tracing
    metrics: Metrics
    health: Health
    http: HealthServer | None
    tables: GlobalTables | None = None
    catch_up_timeout_s: float = 300.0

    def run(self, stop: threading.Event) -> None:
        if self.http is not None:
            self.http.start()
        try:
            if self.tables is not None:
                self.health.set_ready(False, "loading global tables")
                self.tables.start()
                self.tables.wait_caught_up(self.catch_up_timeout_s)  # before any record is processed
            self.runner.run(stop)
        finally:
            if self.tables is not None:
                self.tables.stop()
            self.tracing.shutdown()
            if self.http is not None:
                self.http.stop()


def _bind_codecs(
    service: Service, settings: BusSettings
) -> tuple[dict[str, BoundCodec], dict[str, BoundCodec]]:
    registry = registry_client(settings.schema_registry)
    auto = settings.schema_registry.auto_register
    reads = [(spec.topic, spec.codec) for spec in service.inputs]
    reads += [(table.topic, table.codec) for table in service.globals]
    decoders = {topic: codec.bind(registry, auto_register=auto) for topic, codec in reads}
    encoders = {spec.topic: spec.codec.bind(registry, auto_register=auto) for spec in service.outputs}
    return decoders, encoders


def build_runtime(
    service: Service, settings: BusSettings, span_processors: Sequence[SpanProcessor] = ()
) -> Runtime:
    rt = settings.runtime
    client = settings.kafka.client_config()
    exactly_once = rt.guarantee is ProcessingGuarantee.EXACTLY_ONCE
    member = f"{service.name}-{rt.instance_id}"
    ensure_runtime_topics(client, service)

    metrics = Metrics(service.name)
    health = Health(stall_after_s=rt.max_poll_interval_ms / 1000)
    provider = build_tracer_provider(service.name, rt.instance_id, settings.telemetry, span_processors)
    group = rt.group_of(service.name)
    tracing = Tracing(provider, group=group)
    state = StateManager(
        service, rt.state_dir / rt.instance_id, rt.state_backend, client, rt.restore_timeout_s
    )
    client_id = f"{settings.kafka.client_id_prefix}-{member}"
    consumer = Consumer(
        consumer_config(
            client,
            client_id=client_id,
            group=group,
            member=static_member(member, [spec.topic for spec in service.inputs]),
            session_timeout_ms=rt.session_timeout_ms,
            max_poll_interval_ms=rt.max_poll_interval_ms,
        )
    )
    producer_settings = producer_config(client, {"client.id": client_id, "linger.ms": 5})
    if exactly_once:
        producer_settings["transactional.id"] = member
        producer_settings["transaction.timeout.ms"] = rt.transaction_timeout_ms
    tracked = frozenset(service.changelog_topic(store.name) for store in service.stores)
    producer = TxnProducer(
        producer_settings,
        transactional=exactly_once,
        tracked_topics=tracked,
        timeout_s=rt.transaction_timeout_ms / 1000,
    )
    decoders, encoders = _bind_codecs(service, settings)
    retry = RetryPolicy(rt.retry_attempts, rt.retry_initial_backoff_ms / 1000, rt.retry_max_backoff_ms / 1000)
    tables = None
    lookup: StateLookup = state.get
    if service.globals:
        tables = GlobalTables(
            service.globals,
            decoders,
            rt.state_dir / rt.instance_id / service.name / "global",
            rt.state_backend,
            client,
            group=f"{service.name}.global.{rt.instance_id}",
        )
        lookup = _with_globals(state, tables)
    processor = RecordProcessor(service, decoders, encoders, lookup, retry, tracing, metrics)
    checkpoint = Checkpoint(service, producer, consumer, state, rt.commit_every, rt.commit_interval_ms / 1000)
    runner = Runner(
        service_name=service.name,
        topics=[spec.topic for spec in service.inputs],
        consumer=consumer,
        producer=producer,
        processor=processor,
        state=state,
        checkpoint=checkpoint,
        metrics=metrics,
        health=health,
        batch_size=min(rt.commit_every, 1000),
        max_failed_checkpoints=rt.max_failed_checkpoints,
        max_batch_s=rt.max_poll_interval_ms / 1000 / 4,
    )
    http = None
    if rt.http_port is not None:
        queries = QueryRouter(service.queries, state) if service.queries else None
        http = HealthServer(rt.http_host, rt.http_port, health, metrics.registry, queries)
    return Runtime(runner, tracing, metrics, health, http, tables, rt.restore_timeout_s)


def _with_globals(state: StateManager, tables: GlobalTables) -> StateLookup:
    def lookup(store: str, partition: int) -> StateView:
        return tables.view(store) if store in tables else state.get(store, partition)

    return lookup


def run_service(service: Service, settings: BusSettings, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (main thread) or until ``stop`` is set."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    runtime = build_runtime(service, settings)
    get_logger(service=service.name).info("starting", guarantee=str(settings.runtime.guarantee))
    runtime.run(stop)
