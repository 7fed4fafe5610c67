"""The webhook gateway's ASGI app (Starlette): verify, dedupe, redact, produce, then answer.

Starlette + uvicorn rather than aiohttp: a small, typed ASGI toolkit whose request stream lets the
size limit be enforced while reading, and that tests can drive in-process through httpx's ASGI
transport; uvicorn is the reference ASGI server.

Answers: 200 after the broker acknowledged (or for a recognised re-delivery), 401 bad/stale
signature or unknown account, 400 authentic but unusable, 404 provider not configured, 413 body over
the limit, 503 broker unavailable (the provider retries). Nothing reaches Kafka unless verified.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.gateway.dedupe import SeenEvents
from services.gateway.headers import ingress_headers
from services.gateway.producer import BrokerUnavailableError, Publisher
from services.gateway.providers import (
    BadRequestError,
    Inbound,
    NotConfiguredError,
    PingOnlyError,
    UnknownAccountError,
    describe,
)
from services.gateway.redaction import redact
from services.gateway.settings import GatewaySettings
from services.gateway.signatures import InvalidSignatureError
from services.gateway.topics import InvalidTopicError, ingress_topic

__all__ = ["create_app"]

log = structlog.get_logger("services.gateway")


class _BodyTooLargeError(Exception):
    """The body exceeds ``max_body_bytes``: answer 413."""


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a lying or absent Content-Length is caught while reading
            raise _BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "esb_gateway_webhooks",
            "Webhooks by provider and outcome",
            ["provider", "outcome"],
            registry=registry,
        )
        self.redactions = Counter(
            "esb_gateway_redactions",
            "Card values masked before the ingress write",
            ["provider"],
            registry=registry,
        )
        self.latency = Histogram(
            "esb_gateway_produce_seconds", "Time from produce to broker acknowledgement", registry=registry
        )


def _accepted(provider: str) -> Response:
    # Adyen requires this exact body to consider a notification delivered.
    return PlainTextResponse("[accepted]" if provider == "adyen" else "ok")


def create_app(
    settings: GatewaySettings,
    publisher: Publisher,
    seen: SeenEvents,
    tracer: Tracer | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the app; the caller owns the publisher's lifecycle."""
    tracer = tracer or trace.get_tracer("services.gateway")
    registry = CollectorRegistry()
    metrics = _Metrics(registry)

    def answer(provider: str, outcome: str, response: Response) -> Response:
        metrics.requests.labels(provider, outcome).inc()
        return response

    async def publish(
        provider: str, inbound: Inbound, body: bytes, content_type: str | None, received: float
    ) -> None:
        redacted = redact(body, content_type)
        if redacted.count:
            metrics.redactions.labels(provider).inc(redacted.count)
            log.warning(
                "card data redacted", provider=provider, event_id=inbound.event_id, count=redacted.count
            )
        topic = ingress_topic(settings.topic_prefix, inbound.system, inbound.entity)
        attributes = {"messaging.system": "kafka", "messaging.destination.name": topic}
        with tracer.start_as_current_span(f"publish {topic}", kind=SpanKind.PRODUCER, attributes=attributes):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = ingress_headers(
                system=inbound.system,
                account=inbound.account,
                event_id=inbound.event_id,
                event_topic=inbound.event_topic,
                received_at=received,
                content_type=content_type,
                trace_context=carrier,
                redactions=redacted.count,
            )
            started = time.perf_counter()
            key = inbound.key.encode("utf-8") if inbound.key else None
            delivered = await publisher.send(topic, redacted.body, key=key, headers=headers)
            metrics.latency.observe(time.perf_counter() - started)
        log.info(
            "webhook written",
            provider=provider,
            account=inbound.account,
            event_id=inbound.event_id,
            event_topic=inbound.event_topic,
            topic=delivered.topic,
            partition=delivered.partition,
            offset=delivered.offset,
        )

    async def webhook(request: Request) -> Response:
        provider = request.path_params["provider"]
        received = clock()
        span_name = f"POST /webhooks/{provider}"
        with tracer.start_as_current_span(span_name, kind=SpanKind.SERVER) as span:
            span.set_attribute("esb.provider", provider)
            try:
                body = await _read_body(request, settings.max_body_bytes)
                inbound = describe(
                    provider,
                    headers=request.headers,
                    body=body,
                    path_account=request.path_params.get("account"),
                    settings=settings,
                    now=received,
                )
            except _BodyTooLargeError:
                return answer(provider, "too_large", PlainTextResponse("payload too large", 413))
            except PingOnlyError:
                return answer(provider, "ping", PlainTextResponse("ok"))
            except NotConfiguredError:
                return answer(provider, "not_configured", PlainTextResponse("not found", 404))
            except (InvalidSignatureError, UnknownAccountError) as exc:
                reason = exc.reason if isinstance(exc, InvalidSignatureError) else "unknown account"
                log.warning("webhook rejected", provider=provider, reason=reason)
                span.set_status(Status(StatusCode.ERROR, reason))
                return answer(provider, "unauthorized", PlainTextResponse("unauthorized", 401))
            except (BadRequestError, InvalidTopicError) as exc:
                log.warning("webhook unusable", provider=provider, reason=str(exc))
                return answer(provider, "bad_request", PlainTextResponse("bad request", 400))

            span.set_attribute("esb.event_id", inbound.event_id)
            if seen.seen(inbound.dedupe_key):
                log.info("re-delivery answered without a write", provider=provider, event_id=inbound.event_id)
                return answer(provider, "duplicate", _accepted(provider))
            try:
                await publish(provider, inbound, body, request.headers.get("content-type"), received)
            except InvalidTopicError as exc:
                log.warning("webhook unusable", provider=provider, reason=str(exc))
                return answer(provider, "bad_request", PlainTextResponse("bad request", 400))
            except BrokerUnavailableError as exc:
                log.error("broker unavailable", provider=provider, event_id=inbound.event_id, error=str(exc))
                span.set_status(Status(StatusCode.ERROR, "broker unavailable"))
                unavailable = PlainTextResponse("unavailable", 503, headers={"Retry-After": "30"})
                return answer(provider, "unavailable", unavailable)
            seen.remember(inbound.dedupe_key)
            return answer(provider, "written", _accepted(provider))

    async def live(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def ready(_: Request) -> Response:
        return PlainTextResponse("ok") if publisher.healthy else PlainTextResponse("producer failed", 503)

    async def metrics_page(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/webhooks/{provider}", webhook, methods=["POST"]),
            Route("/webhooks/{provider}/{account}", webhook, methods=["POST"]),
            Route("/health/live", live, methods=["GET"]),
            Route("/health/ready", ready, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ]
    )
