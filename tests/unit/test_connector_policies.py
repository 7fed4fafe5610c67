"""Connector pure parts: rate limit, backoff, response classification, request decoding."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from services.connectors.backoff import BackoffPolicy, PartitionBackoff
from services.connectors.classify import Delivered, Rejected, Retry, classify, classify_probe, retry_after_s
from services.connectors.ratelimit import AccountLimiter, TokenBucket
from services.connectors.request import HEADERS, DeliveryRequest, MissingHeaderError

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_paces() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=2.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.5)  # the 4th token arrives after 1/rate
    assert bucket.reserve() == pytest.approx(1.0)  # and the 5th after that
    clock.now += 10
    assert bucket.reserve() == 0.0  # refilled, capped at the burst


def test_account_wide_slowdown_delays_every_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=1.0, burst=5, clock=clock)
    bucket.slow_down(30)
    assert bucket.reserve() >= 30


def test_limiter_bounds_concurrency_and_sleeps_for_rate() -> None:
    slept: list[float] = []
    clock = Clock()
    limiter = AccountLimiter(2, TokenBucket(1.0, 1, clock=clock), sleep=slept.append)
    with limiter.slot(), limiter.slot():
        assert limiter.in_flight == 2
    assert limiter.peak == 2
    assert slept == [pytest.approx(1.0)]  # the second request waited for its token


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    policy = BackoffPolicy(initial_s=1.0, max_s=8.0)
    rng = random.Random(1)
    assert all(0 <= policy.delay(1, rng=rng) <= 1.0 for _ in range(50))
    assert all(0 <= policy.delay(10, rng=rng) <= 8.0 for _ in range(50))
    assert policy.delay(1, retry_after_s=5.0, rng=rng) >= 5.0
    assert policy.delay(1, retry_after_s=3600.0, rng=rng) == 8.0  # a hostile Retry-After is capped


def test_partition_backoff_pauses_only_the_failing_partition() -> None:
    backoff = PartitionBackoff(BackoffPolicy(initial_s=1.0, max_s=4.0))
    resume = backoff.failed(("egress.netsuite.sales-orders", 3), now=10.0, retry_after_s=2.0)
    assert resume >= 12.0
    assert backoff.paused() == {("egress.netsuite.sales-orders", 3)}
    assert backoff.due(11.0) == []
    assert backoff.due(resume) == [("egress.netsuite.sales-orders", 3)]
    backoff.failed(("egress.netsuite.sales-orders", 3), now=resume)
    assert backoff.attempts(("egress.netsuite.sales-orders", 3)) == 2
    backoff.succeeded(("egress.netsuite.sales-orders", 3))
    assert backoff.paused() == set()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"{}", Delivered),
        (201, b"{}", Delivered),
        (204, b"", Delivered),
        (429, b"", Retry),
        (500, b"oops", Retry),
        (503, b"", Retry),
        (408, b"", Retry),
        (401, b"", Retry),
        (400, b'{"o:errorDetails":[{"o:errorCode":"INVALID_FLD_VALUE"}]}', Rejected),
        (404, b"", Rejected),
        (422, b"", Rejected),
    ],
)
def test_classification(status: int, body: bytes, expected: type) -> None:
    assert isinstance(classify(status, body), expected)


def test_rejection_keeps_the_target_error_body_bounded() -> None:
    outcome = classify(400, b'{"title":"Bad Request","detail":"' + b"x" * 10_000 + b'"}', max_body=300)
    assert isinstance(outcome, Rejected)
    assert outcome.body.startswith('{"title":"Bad Request"')
    assert len(outcome.body) == 300


def test_netsuite_duplicate_idempotency_key_counts_as_delivered() -> None:
    body = b'{"status":400,"o:errorDetails":[{"o:errorCode":"IDEMPOTENCY_ERROR"}]}'
    assert classify(400, body) == Delivered(400, already=True)


def test_credentials_are_an_account_problem() -> None:
    outcome = classify(403, b"", "10")
    assert isinstance(outcome, Retry)
    assert outcome.account_wide
    assert outcome.after_s == 10.0


def test_retry_after_in_seconds_and_http_date() -> None:
    now = datetime(2024, 4, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Mon, 01 Apr 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


def test_probe_hit_miss_and_failure() -> None:
    assert classify_probe(200, b'{"value":[{"id":"b6f4017a"}]}') == Delivered(200, already=True)
    assert classify_probe(200, b'{"value":[]}') is None
    assert isinstance(classify_probe(503, b""), Retry)


def _headers(**overrides: str) -> dict[str, bytes]:
    values = {
        "idempotency_key": "k-1",
        "external_id": "esb-order-1",
        "account": "1234567",
        "method": "PUT",
        "path": "/services/rest/record/v1/salesOrder/eid:esb-order-1",
        "document_type": "netsuite.salesOrder",
        "content_type": "application/json",
    } | overrides
    return {HEADERS[name]: value.encode() for name, value in values.items()}


def test_request_from_record_headers() -> None:
    request = DeliveryRequest.from_record(b"{}", _headers())
    assert request.system == "netsuite"
    assert request.probe is None
    with pytest.raises(MissingHeaderError, match=r"esb\.egress\.path"):
        DeliveryRequest.from_record(b"{}", {k: v for k, v in _headers().items() if k != HEADERS["path"]})
    with pytest.raises(MissingHeaderError, match="relative"):
        DeliveryRequest.from_record(b"{}", _headers(path="https://evil.example/steal"))
    with pytest.raises(MissingHeaderError, match="method"):
        DeliveryRequest.from_record(b"{}", _headers(method="DELETE"))  # a raw DELETE is never forwarded
    cancel = _headers(method="DELETE", document_type="business-central.salesOrderChange")
    assert DeliveryRequest.from_record(b"{}", cancel).method == "DELETE"  # resolved by the connector
