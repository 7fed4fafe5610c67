"""With tracing off the incoming trace context is forwarded exactly as OpenTelemetry would do it."""

from __future__ import annotations

import pytest
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bus.observability.tracing import Headers, Tracing, _forwardable

pytestmark = pytest.mark.unit

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING: list[Headers] = [
    [("traceparent", f"00-{TRACE}-00f067aa0ba902b7-01".encode())],
    [("traceparent", f"00-{TRACE}-00f067aa0ba902b7-00".encode())],
    [("traceparent", f"00-{TRACE}-00f067aa0ba902b7-03".encode()), ("esb-entity", b"orders")],
    [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), ("tracestate", b"a=1,b=2")],
    [("traceparent", f"01-{TRACE}-00f067aa0ba902b7-01-extra".encode())],
    [("traceparent", f"00-{TRACE.upper()}-00F067AA0BA902B7-01".encode())],
    [("traceparent", f"00-{'0' * 32}-00f067aa0ba902b7-01".encode())],
    [("traceparent", b"garbage")],
    [
        ("traceparent", f"00-{TRACE}-00f067aa0ba902b6-01".encode()),
        ("traceparent", f"00-{TRACE}-aaf067aa0ba902b7-01".encode()),
    ],
    [("esb-entity", b"orders")],
    [],
]


def _opentelemetry(incoming: Headers, out: Headers) -> tuple[Headers, str | None]:
    """What the OpenTelemetry path gives: the parent's context injected, its trace id."""
    propagator = TraceContextTextMapPropagator()
    carrier = {name: value.decode("latin-1") for name, value in incoming}
    context = propagator.extract(carrier)
    injected: dict[str, str] = {}
    propagator.inject(injected, context=context)
    expected = [(k, v) for k, v in out if k not in injected] + [
        (k, v.encode("latin-1")) for k, v in injected.items()
    ]
    trace_id = injected["traceparent"][3:35] if "traceparent" in injected else None
    return expected, trace_id


@pytest.mark.parametrize("by_name", [False, True], ids=["headers", "headers-and-dict"])
@pytest.mark.parametrize("incoming", INCOMING)
def test_outputs_and_logs_get_the_parent_context_opentelemetry_would_give(
    incoming: Headers, by_name: bool
) -> None:
    tracing = Tracing(None, group="g")
    out: Headers = [("content-type", b"application/json")]
    forwarded: Headers = [("content-type", b"application/json")]
    with tracing.process_span("t", 0, 7, b"k", incoming, dict(incoming) if by_name else None):
        trace_id = Tracing.current_trace_id()
        with tracing.send_span("out", out):
            pass
        tracing.forward(forwarded)  # the processor's call for an output while tracing is off
    expected, expected_trace_id = _opentelemetry(incoming, [("content-type", b"application/json")])
    assert sorted(out) == sorted(expected)
    assert forwarded == out
    assert trace_id == expected_trace_id
    assert Tracing.current_trace_id() is None  # nothing leaks past the record


CANONICAL = f"00-{TRACE}-00f067aa0ba902b7-01".encode()


@pytest.mark.parametrize(
    "incoming",
    [
        *INCOMING,
        [("traceparent", CANONICAL), ("tracestate", b"")],
        [("tracestate", b"a=1"), ("traceparent", CANONICAL), ("tracestate", b"")],  # any tracestate
        [("tracestate", b""), ("traceparent", CANONICAL), ("tracestate", b"a=1")],
        [("traceparent", None), ("esb-entity", b"orders")],
        [("traceparent", CANONICAL), ("traceparent", None)],
    ],
)
def test_the_header_dict_decides_what_the_header_list_decides(incoming: Headers) -> None:
    assert _forwardable(incoming, dict(incoming)) == _forwardable(incoming)


@pytest.mark.parametrize("by_name", [False, True], ids=["headers", "headers-and-dict"])
@pytest.mark.parametrize("incoming", INCOMING)
def test_forwarding_without_a_span_object_is_what_the_process_span_forwards(
    incoming: Headers, by_name: bool
) -> None:
    tracing = Tracing(None, group="g")
    by_span: Headers = [("content-type", b"application/json")]
    with tracing.process_span("t", 0, 7, b"k", incoming, dict(incoming) if by_name else None):
        span_trace_id = Tracing.current_trace_id()
        tracing.forward(by_span)
    token = tracing.start_forwarding(incoming, dict(incoming) if by_name else None)
    if token is None:  # the processor then opens the process span: OpenTelemetry's parsing decides
        assert _forwardable(incoming) is None
        return
    forwarded: Headers = [("content-type", b"application/json")]
    try:
        trace_id = Tracing.current_trace_id()
        tracing.forward(forwarded)
    finally:
        tracing.end_forwarding(token)
    assert (forwarded, trace_id) == (by_span, span_trace_id)
    assert Tracing.current_trace_id() is None  # nothing leaks past the record


def test_with_tracing_on_there_is_always_a_span() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracing = Tracing(TracerProvider(), group="g")
    assert tracing.start_forwarding(INCOMING[0], dict(INCOMING[0])) is None
