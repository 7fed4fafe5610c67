"""OpenTelemetry spans per process / send, W3C trace context carried in Kafka headers.

Span names and attributes follow the messaging semantic conventions: ``process <topic>`` (kind
CONSUMER, parented on the ``traceparent`` found in the record's headers) around decoding and the
handler, and ``send <topic>`` (kind PRODUCER) per emitted record, whose context is injected into
the outgoing headers, so a chain of services forms one trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableSequence, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bus.config import TelemetrySettings

__all__ = ["Headers", "Tracing", "build_tracer_provider"]

Headers = list[tuple[str, bytes]]
_PROPAGATOR = TraceContextTextMapPropagator()


class _HeaderGetter(Getter[Sequence[tuple[str, bytes]]]):
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        for name, value in reversed(carrier):
            if name == key and value is not None:
                return [value.decode("latin-1")]
        return None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [name for name, _ in carrier]


class _HeaderSetter(Setter[MutableSequence[tuple[str, bytes]]]):
    def set(self, carrier: MutableSequence[tuple[str, bytes]], key: str, value: str) -> None:
        carrier[:] = [(name, v) for name, v in carrier if name != key]
        carrier.append((key, value.encode("latin-1")))


_GETTER = _HeaderGetter()
_SETTER = _HeaderSetter()

# With tracing off, the incoming record's trace context is only forwarded (to the outputs' headers
# and the logs' trace id). For the canonical form every OpenTelemetry SDK writes (version 00, lower
# case, no tracestate) the traceparent OpenTelemetry would inject is the incoming one, character
# for character, so it is copied instead of parsed into a context, attached as a non-recording
# span and formatted again: that was about 40 % of the runtime's own per-record CPU (Avro map,
# 25 -> 16 µs per record on the 2-core dev VM). Anything else takes OpenTelemetry's path.
# The header's bytes are matched and forwarded as they are (OpenTelemetry reads them as latin-1:
# the same characters).
_CANONICAL_TRACEPARENT = re.compile(rb"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_FORWARD: ContextVar[bytes | None] = ContextVar("esb_forwarded_traceparent", default=None)
_NOTHING = nullcontext()


def _forwardable(
    headers: Sequence[tuple[str, bytes]], by_name: Mapping[str, bytes | None] | None = None
) -> bytes | None:
    """The traceparent to forward as it is (b"" when there is none), or None when the trace
    context needs OpenTelemetry's parsing (a tracestate, another version or form).

    ``by_name``: ``dict(headers)``, when the caller has it. Without repeated names it holds every
    header's value (the last one's, as below), so two lookups replace the walk over the headers
    (~0.4 µs for a gateway record's nine)."""
    if by_name is not None and len(by_name) == len(headers):
        if by_name.get("tracestate"):
            return None
        traceparent = by_name.get("traceparent") or b""
    else:
        traceparent = b""
        for name, value in headers:
            if name == "traceparent":
                if value is not None:  # a null copy is skipped, as OpenTelemetry's reading does
                    traceparent = value
            elif name == "tracestate" and value:
                return None
    if traceparent and not _CANONICAL_TRACEPARENT.fullmatch(traceparent):
        return None
    return traceparent


class _Forwarding:
    """The process "span" of a record while tracing is off: its traceparent, for the outputs."""

    __slots__ = ("_token", "_traceparent")

    def __init__(self, traceparent: bytes) -> None:
        self._traceparent = traceparent

    def __enter__(self) -> trace.Span:
        self._token = _FORWARD.set(self._traceparent)
        return trace.INVALID_SPAN

    def __exit__(self, *exc: object) -> None:
        _FORWARD.reset(self._token)


def build_tracer_provider(
    service: str, instance: str, settings: TelemetrySettings, extra: Sequence[SpanProcessor] = ()
) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP when an endpoint is configured; None when tracing is off."""
    if settings.sdk_disabled or (settings.exporter_otlp_endpoint is None and not extra):
        return None
    resource = Resource.create(
        {SERVICE_NAME: settings.service_name or service, SERVICE_INSTANCE_ID: instance}
    )
    provider = TracerProvider(resource=resource)
    if settings.exporter_otlp_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    for processor in extra:
        provider.add_span_processor(processor)
    return provider


class Tracing:
    """Spans for one service; a no-op tracer when no provider is given.

    The no-op tracer still continues the parent context found in the headers (its spans are
    non-recording copies of the parent), so trace ids reach the logs and the outputs' headers.
    """

    def __init__(self, provider: TracerProvider | None, group: str) -> None:
        self._provider = provider
        self._tracer: Tracer = (
            provider.get_tracer("bus")
            if provider is not None
            else trace.NoOpTracerProvider().get_tracer("bus")
        )
        self._group = group
        self.enabled = provider is not None

    def process_span(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        by_name: Mapping[str, bytes | None] | None = None,
    ) -> AbstractContextManager[trace.Span]:
        """``by_name``: ``dict(headers)`` if the caller built it anyway (cheaper forwarding)."""
        if not self.enabled:
            forward = _forwardable(headers, by_name)
            if forward is not None:
                return _Forwarding(forward)
        parent = _PROPAGATOR.extract(headers, getter=_GETTER) if headers else None
        if not self.enabled:  # an unusual trace context: OpenTelemetry's own parsing decides
            return self._tracer.start_as_current_span(f"process {topic}", context=parent)
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": topic,
            "messaging.destination.partition.id": str(partition),
            "messaging.consumer.group.name": self._group,
            "messaging.kafka.offset": offset,
        }
        if key is not None:
            attributes["messaging.kafka.message.key"] = key.decode("utf-8", "replace")
        return self._tracer.start_as_current_span(
            f"process {topic}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
        )

    def start_forwarding(
        self, headers: Sequence[tuple[str, bytes]], by_name: Mapping[str, bytes | None] | None = None
    ) -> Token[bytes | None] | None:
        """With tracing off and a trace context forwarded as it is (the common case): what entering
        :meth:`process_span` does, without a context manager object and its two calls per record;
        end it with :meth:`end_forwarding`. None: use :meth:`process_span`."""
        if self.enabled:
            return None
        forward = _forwardable(headers, by_name)
        return None if forward is None else _FORWARD.set(forward)

    @staticmethod
    def end_forwarding(token: Token[bytes | None]) -> None:
        _FORWARD.reset(token)

    def send_span(self, topic: str, headers: Headers) -> AbstractContextManager[None]:
        """A ``send`` span whose context is written into ``headers`` (W3C traceparent).

        With tracing off no span is started: the current (non-recording) context, the incoming
        record's parent, is forwarded as it is, so an un-instrumented hop does not break a trace.
        """
        if not self.enabled:
            self.forward(headers)
            return _NOTHING
        return self._send_span(topic, headers)

    @staticmethod
    def forward(headers: Headers) -> None:
        """With tracing off, what :meth:`send_span` writes into ``headers`` (it opens no span): the
        record's processing loop calls it directly, without a context manager per output."""
        forward = _FORWARD.get()
        if forward is None:
            _PROPAGATOR.inject(headers, setter=_SETTER)
        elif forward:  # what _SETTER.set does, with the bytes already at hand
            if headers:
                headers[:] = [(name, v) for name, v in headers if name != "traceparent"]
            headers.append(("traceparent", forward))

    @contextmanager
    def _send_span(self, topic: str, headers: Headers) -> Iterator[None]:
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": topic,
        }
        with self._tracer.start_as_current_span(
            f"send {topic}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            _PROPAGATOR.inject(headers, setter=_SETTER)
            yield

    @staticmethod
    def current_trace_id() -> str | None:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            return format(context.trace_id, "032x")
        forward = _FORWARD.get()
        return forward[3:35].decode() if forward else None

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
