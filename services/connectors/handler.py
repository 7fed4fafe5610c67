"""The delivery connector as a runtime sink (:mod:`bus.sink`): egress record in, HTTP call out.

* delivered (2xx, or found by the probe, or the target reports the key as already used) -> ``Done``:
  the offset moves with the next commit;
* retry (429/5xx/transport) -> ``RetryAt`` the backoff (:class:`PartitionBackoff`, never shorter
  than ``Retry-After``): only that partition pauses, the others keep delivering; 401/403 ->
  ``account_wide``: every partition whose next document is for that account waits too;
* rejected (other 4xx, a record without the egress headers) -> ``Reject`` with the status and
  the target's error body: the runtime dead-letters it before the offset moves.

The lane is the target account (``esb.egress.account``), so ``max_in_flight_per_key`` bounds the
requests per account. A crash between the HTTP call and the offset commit re-delivers the document
with the same idempotency key, which the target (upsert by external id, probe, idempotency header)
absorbs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bus.processor import Record
from bus.sink import Done, Reject, RetryAt, SinkOutcome, SinkService
from services.connectors.backoff import BackoffPolicy, PartitionBackoff
from services.connectors.classify import Delivered, Retry
from services.connectors.deliver import Deliverer
from services.connectors.request import HEADERS, DeliveryRequest, MissingHeaderError
from services.connectors.settings import ConnectorSettings

__all__ = ["DeliverySink", "build_sink"]


class DeliverySink:
    def __init__(
        self, deliverer: Deliverer, backoff: PartitionBackoff, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._deliverer = deliverer
        self._backoff = backoff
        self._clock = clock

    def key(self, record: Record) -> str:
        account = dict(record.headers).get(HEADERS["account"])
        return account.decode() if account is not None else ""

    def deliver(self, record: Record) -> SinkOutcome:
        if record.value is None:
            return Reject("tombstone on an egress topic")
        try:
            request = DeliveryRequest.from_record(record.value, dict(record.headers))
        except MissingHeaderError as exc:
            return Reject(str(exc))
        outcome = self._deliverer.deliver(request)
        partition = (record.topic, record.partition)
        if isinstance(outcome, Delivered):
            self._backoff.succeeded(partition)
            return Done()
        if isinstance(outcome, Retry):
            resume_at = self._backoff.failed(partition, self._clock(), outcome.after_s)
            return RetryAt(resume_at, account_wide=outcome.account_wide)
        document = f"{request.document_type} {request.external_id}"
        return Reject(f"{document} rejected with HTTP {outcome.status}: {outcome.body}")


def build_sink(settings: ConnectorSettings, deliverer: Deliverer) -> SinkService:
    policy = BackoffPolicy(settings.backoff_initial_s, settings.backoff_max_s)
    return SinkService(
        name=settings.service_name,
        inputs=list(settings.topics),
        sink=DeliverySink(deliverer, PartitionBackoff(policy)),
        max_in_flight_per_key=settings.max_in_flight_per_account,
        workers=settings.workers,
    )
