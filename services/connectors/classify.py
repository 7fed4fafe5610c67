"""What a target's answer means for the document: delivered, retry later, or rejected for good.

| answer | outcome |
|---|---|
| 2xx | ``Delivered`` |
| NetSuite 400 ``IDEMPOTENCY_ERROR``, 409 with an idempotency conflict | ``Delivered`` (already accepted) |
| 429, 408, 425, 5xx, transport errors | ``Retry`` (``Retry-After`` honoured: seconds or HTTP date) |
| 401, 403 | ``Retry`` with ``account_wide``: credentials are an account problem, not the record's |
| other 4xx | ``Rejected`` with the status and the target's error body (-> DLQ) |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["Delivered", "Outcome", "Rejected", "Retry", "classify", "classify_probe", "retry_after_s"]


@dataclass(frozen=True, slots=True)
class Delivered:
    status: int
    already: bool = False


@dataclass(frozen=True, slots=True)
class Retry:
    reason: str
    after_s: float | None = None
    account_wide: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    status: int
    body: str


Outcome = Delivered | Retry | Rejected

_RETRY_STATUSES = frozenset({408, 425, 429})


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After``: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def classify(
    status: int,
    body: bytes,
    retry_after: str | None = None,
    *,
    max_body: int = 4096,
    now: datetime | None = None,
) -> Outcome:
    text = body[:max_body].decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return Delivered(status)
    if status in _RETRY_STATUSES or status >= 500:
        return Retry(f"HTTP {status}", retry_after_s(retry_after, now))
    if status in (401, 403):
        return Retry(f"HTTP {status}: credentials or permissions", retry_after_s(retry_after, now), True)
    if (status in (400, 409)) and ("IDEMPOTENCY_ERROR" in text or "idempotency" in text.lower()):
        return Delivered(status, already=True)
    return Rejected(status, text)


def classify_probe(status: int, body: bytes) -> Outcome | None:
    """A probe that found the record -> Delivered(already); found nothing -> None (send it)."""
    if status == 200:
        try:
            found = json.loads(body).get("value")
        except (ValueError, AttributeError):
            return Retry("probe answered unreadable JSON")
        return Delivered(status, already=True) if found else None
    return classify(status, body)
