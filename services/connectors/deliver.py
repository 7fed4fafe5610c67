"""One document to its target: probe (when the target has no upsert), send, classify.

Shopify fulfillments use the probe differently: its answer (the order's fulfillment orders) turns
the document into the request (``shopify_fulfillment``). Business Central order changes are a read
and several etag'd calls (``business_central_order``).

Blocking by design and safe to call from worker threads: the per-account limiter bounds requests in
flight and their rate. Transport failures (connect, read timeouts) are retryable; the idempotency key
makes the retry harmless when the first attempt did reach the target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import httpx

from bus.observability.logging import get_logger
from services.connectors import business_central_order, shopify_fulfillment
from services.connectors.classify import Outcome, Rejected, Retry, classify, classify_probe
from services.connectors.ratelimit import AccountLimiter, TokenBucket
from services.connectors.request import DeliveryRequest
from services.connectors.settings import AccountSettings
from services.connectors.targets import build_call, build_probe, build_request

__all__ = ["Deliverer"]


class Deliverer:
    def __init__(
        self,
        accounts: Mapping[str, AccountSettings],
        client: httpx.Client | None = None,
        max_error_body: int = 4096,
    ) -> None:
        self._accounts = dict(accounts)
        self._client = client or httpx.Client()
        self._max_body = max_error_body
        self.limiters = {
            name: AccountLimiter(account.max_concurrency, TokenBucket(account.rate_per_second, account.burst))
            for name, account in self._accounts.items()
        }
        self._log = get_logger(component="deliverer")

    def close(self) -> None:
        self._client.close()

    def deliver(self, request: DeliveryRequest) -> Outcome:
        account = self._accounts.get(request.account)
        if account is None:
            return Rejected(0, f"no connector account configured for {request.account!r}")
        limiter = self.limiters[request.account]
        if request.document_type == business_central_order.DOCUMENT_TYPE:
            return self._order_change(request, account, limiter)
        try:
            probe = build_probe(self._client, request, account)
            if probe is not None:
                with limiter.slot():
                    answer = self._client.send(probe)
                if request.document_type == shopify_fulfillment.DOCUMENT_TYPE:
                    # an unacknowledged earlier attempt shows as a fulfillment with our tracking number
                    listed = probe.url.copy_with(path=shopify_fulfillment.fulfillments_path(probe.url.path))
                    with limiter.slot():
                        earlier = self._client.send(
                            self._client.build_request(
                                "GET", listed, headers=probe.headers, extensions=probe.extensions
                            )
                        )
                    sent = shopify_fulfillment.sent_before(request.body, earlier.status_code, earlier.content)
                    if sent is not None:
                        return self._observe(request, sent, limiter)
                    # the probe is the input of the request: Shopify's fulfillment order line items
                    resolved = shopify_fulfillment.resolve(request.body, answer.status_code, answer.content)
                    if not isinstance(resolved, bytes):
                        return self._observe(request, resolved, limiter)
                    request = dataclasses.replace(request, body=resolved)
                else:
                    found = classify_probe(answer.status_code, answer.content)
                    if found is not None:
                        return self._observe(request, found, limiter)
            with limiter.slot():
                response = self._client.send(build_request(self._client, request, account))
        except httpx.TransportError as exc:
            return Retry(f"transport: {type(exc).__name__}")
        outcome = classify(
            response.status_code,
            response.content,
            response.headers.get("Retry-After"),
            max_body=self._max_body,
        )
        return self._observe(request, outcome, limiter)

    def _order_change(
        self, request: DeliveryRequest, account: AccountSettings, limiter: AccountLimiter
    ) -> Outcome:
        probe = build_probe(self._client, request, account)
        if probe is None:
            return Rejected(0, "a Business Central order change needs its probe")

        def read() -> tuple[int, bytes]:
            with limiter.slot():
                answer = self._client.send(probe)
            return answer.status_code, answer.content

        def send(
            method: str, path: str, body: bytes | None, etag: str | None
        ) -> tuple[int, bytes, str | None]:
            call = build_call(self._client, request, account, method, path, body, etag)
            with limiter.slot():
                response = self._client.send(call)
            return (
                response.status_code,
                response.content[: self._max_body],
                response.headers.get("Retry-After"),
            )

        try:
            outcome = business_central_order.apply(request.body, request.path, read, send)
        except httpx.TransportError as exc:
            return Retry(f"transport: {type(exc).__name__}")
        return self._observe(request, outcome, limiter)

    def _observe(self, request: DeliveryRequest, outcome: Outcome, limiter: AccountLimiter) -> Outcome:
        if isinstance(outcome, Retry) and outcome.account_wide and outcome.after_s:
            limiter.bucket.slow_down(outcome.after_s)
        self._log.info(
            "delivery",
            document_type=request.document_type,
            external_id=request.external_id,
            idempotency_key=request.idempotency_key,
            outcome=type(outcome).__name__,
        )
        return outcome
