"""Trace forwarding with tracing off, on generated header lists: repeated names, None values,
traceparents that are not canonical, tracestates. Whatever the list, the forwarded headers and the
logs' trace id are what OpenTelemetry's own propagation would give, and the record's header list
is left as it was (the runtime shares it with the consumed message)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bus.errors import DeadLetterError
from bus.observability.metrics import Metrics
from bus.observability.tracing import _GETTER, _SETTER, Headers, Tracing, _forwardable
from bus.processor import Record, RecordProcessor
from bus.retry import RetryPolicy
from bus.serde import BytesCodec
from bus.service import Emit, Event, Input, Output, Service

pytestmark = pytest.mark.unit

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CANONICAL = f"00-{TRACE}-00f067aa0ba902b7-01".encode()

_TRACEPARENTS = st.one_of(
    st.sampled_from(
        [
            CANONICAL,
            f"00-{TRACE}-00f067aa0ba902b6-00".encode(),
            f"00-{TRACE.upper()}-00F067AA0BA902B7-01".encode(),
            f"01-{TRACE}-00f067aa0ba902b7-01-extra".encode(),
            f"00-{'0' * 32}-00f067aa0ba902b7-01".encode(),
            f"00-{TRACE}-{'0' * 16}-01".encode(),
            f"ff-{TRACE}-00f067aa0ba902b7-01".encode(),
            f" 00-{TRACE}-00f067aa0ba902b7-01 ".encode(),
            b"garbage",
            b"",
        ]
    ),
    st.binary(max_size=60),
)
_HEADER = st.one_of(
    st.tuples(st.just("traceparent"), st.one_of(st.none(), _TRACEPARENTS)),
    st.tuples(st.just("tracestate"), st.sampled_from([None, b"", b"a=1", b"a=1,b=2", b"=", b"\xff"])),
    st.tuples(
        st.sampled_from(["esb-entity", "content-type", "Traceparent"]),
        st.one_of(st.none(), st.binary(max_size=4)),
    ),
)
_HEADERS = st.lists(_HEADER, max_size=5)


def _by_opentelemetry(incoming: Headers) -> tuple[Headers, str | None]:
    """The runtime's OpenTelemetry path (its own getter and setter): the outputs' headers and the
    trace id a non-recording child of the extracted parent carries."""
    propagator = TraceContextTextMapPropagator()
    context: Context = propagator.extract(incoming, getter=_GETTER)
    out: Headers = [("content-type", b"application/json")]
    propagator.inject(out, context=context, setter=_SETTER)
    span = trace.get_current_span(context)
    trace_id = span.get_span_context().trace_id
    return out, (f"{trace_id:032x}" if span.get_span_context().is_valid else None)


@settings(max_examples=400, deadline=None)
@given(incoming=_HEADERS)
def test_the_dict_decides_what_the_list_decides(incoming: Headers) -> None:
    assert _forwardable(incoming, dict(incoming)) == _forwardable(incoming)


@settings(max_examples=400, deadline=None)
@given(incoming=_HEADERS, by_name=st.booleans())
def test_forwarding_is_what_opentelemetry_would_write(incoming: Headers, by_name: bool) -> None:
    original = list(incoming)
    tracing = Tracing(None, group="g")
    forwarded: Headers = [("content-type", b"application/json")]
    with tracing.process_span("t", 0, 7, b"k", incoming, dict(incoming) if by_name else None):
        trace_id = Tracing.current_trace_id()
        tracing.forward(forwarded)
    expected, expected_trace_id = _by_opentelemetry(incoming)
    assert incoming == original
    assert forwarded == expected
    assert trace_id == expected_trace_id


def test_a_traceparent_repeated_with_a_null_value_is_forwarded_as_opentelemetry_reads_it() -> None:
    """OpenTelemetry's getter (``_GETTER``) skips a null value and reads the last traceparent that
    has one; so does the forwarding walk (it once took the last one, null or not, and forwarded
    nothing)."""
    incoming: Headers = [("traceparent", CANONICAL), ("traceparent", None)]  # type: ignore[list-item]
    tracing = Tracing(None, group="g")
    forwarded: Headers = []
    with tracing.process_span("t", 0, 7, b"k", incoming, dict(incoming)):
        trace_id = Tracing.current_trace_id()
        tracing.forward(forwarded)
    assert (forwarded, trace_id) == ([("traceparent", CANONICAL)], TRACE)


def _processor(tracing: Tracing, handler: Any) -> RecordProcessor:
    service = Service(
        name="forwarding",
        inputs=[Input("in", BytesCodec())],
        outputs=[Output("out", BytesCodec())],
        handler=handler,
    )
    codecs = {
        "in": BytesCodec().bind(None, auto_register=True),
        "out": BytesCodec().bind(None, auto_register=True),
    }
    return RecordProcessor(
        service,
        {"in": codecs["in"]},
        {"out": codecs["out"]},
        lambda store, partition: {},
        RetryPolicy(attempts=1, initial_backoff_s=0, max_backoff_s=0),
        tracing,
        Metrics("forwarding"),
        sleep=lambda _seconds: None,
    )


def _emits_with_the_input_headers(event: Event[bytes], ctx: Any) -> list[Emit]:
    copied = {name: value for name, value in event.headers.items() if value is not None}
    return [Emit("out", b"k", event.value, copied), Emit("out", b"k", event.value)]


def _fails(event: Event[bytes], ctx: Any) -> list[Emit]:
    raise DeadLetterError("no")


@pytest.mark.parametrize("traced", [False, True], ids=["tracing-off", "tracing-on"])
@pytest.mark.parametrize("handler", [_emits_with_the_input_headers, _fails], ids=["emits", "dead-letters"])
@settings(max_examples=60, deadline=None)
@given(incoming=_HEADERS)
def test_the_record_header_list_is_never_changed(traced: bool, handler: Any, incoming: Headers) -> None:
    """``message_record`` shares the consumed message's header list (cached on the message, read
    again when a batch is rewound): processing must not change it, nor hand it out as an output's."""
    original = list(incoming)
    tracing = Tracing(TracerProvider() if traced else None, group="g")
    record = Record("in", 0, 7, b"k", b"v", incoming)
    processed = _processor(tracing, handler).process(record)
    assert record.headers is incoming
    assert incoming == original
    assert all(out.headers is not incoming for out in processed.outputs)
