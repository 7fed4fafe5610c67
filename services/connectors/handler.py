"""Runtime glue (interim): the delivery connector as a runtime service in at-least-once mode.

The runtime today offers a synchronous handler per record, in-place retries and dead-lettering, but
no per-partition pause/resume and no concurrent side effects (see README, "What bus/ needs"). Until
it does, the connector runs as an ordinary service with ``ESB_GUARANTEE=at_least_once``:

* delivered (2xx, or found by the probe, or the target reports the key as already used) -> nothing
  to emit, the offset is committed with the next checkpoint;
* retry (429/5xx/transport/401/403) -> ``RetryableError``: the runtime backs off and retries in place
  (``ESB_RETRY_*``); a document still refused after the last attempt is dead-lettered, replayable
  with ``esb dlq replay delivery``;
* rejected (other 4xx) -> ``DeadLetterError`` carrying the status and the target's error body.

A crash between the HTTP call and the offset commit re-delivers the document with the same
idempotency key, which the target (upsert by external id, probe, idempotency header) absorbs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bus.errors import DeadLetterError, RetryableError
from bus.serde import BytesCodec
from bus.service import Context, Event, Handler, Input, Outgoing, Service
from services.connectors.classify import Delivered, Rejected, Retry
from services.connectors.deliver import Deliverer
from services.connectors.request import DeliveryRequest
from services.connectors.settings import ConnectorSettings

__all__ = ["build_service", "make_handler"]


def make_handler(deliverer: Deliverer) -> Handler:
    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        request = DeliveryRequest.from_record(event.value, event.headers)
        outcome = deliverer.deliver(request)
        if isinstance(outcome, Delivered):
            return []
        if isinstance(outcome, Retry):
            raise RetryableError(f"{request.document_type} {request.external_id}: {outcome.reason}")
        assert isinstance(outcome, Rejected)
        document = f"{request.document_type} {request.external_id}"
        raise DeadLetterError(f"{document} rejected with HTTP {outcome.status}: {outcome.body}")

    return handle


def build_service(settings: ConnectorSettings, deliverer: Deliverer) -> Service:
    return Service(
        name=settings.service_name,
        inputs=[Input(topic, BytesCodec()) for topic in settings.topics],
        outputs=[],
        handler=make_handler(deliverer),
        event_id=lambda value: None,
    )
