"""Dead letters: the original bytes and headers plus the reason, in ``dlq.<service>``.

A dead letter is produced inside the same transaction as the offset of the record it replaces, so
under exactly-once a poison record lands in the DLQ exactly once and never stalls its partition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.topic_reader import read_to_end

__all__ = [
    "DLQ_HEADERS",
    "DeadLetter",
    "build_dead_letter_headers",
    "matches",
    "parse_dead_letter",
    "read_dead_letters",
    "replay",
    "strip_dead_letter_headers",
]

_PREFIX = "esb.dlq."
DLQ_HEADERS = (
    "error.class",
    "error.message",
    "stage",
    "service",
    "source.topic",
    "source.partition",
    "source.offset",
    "attempt",
    "first-failure-at",
)
_MAX_MESSAGE = 4000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record read back from a DLQ topic."""

    dlq_partition: int
    dlq_offset: int
    key: bytes | None
    value: bytes | None
    original_headers: list[tuple[str, bytes]]
    error_class: str
    error_message: str
    stage: str
    service: str
    source_topic: str
    source_partition: int
    source_offset: int
    attempt: int
    first_failure_at: str


def build_dead_letter_headers(
    original: Sequence[tuple[str, bytes]],
    *,
    error: BaseException,
    stage: str,
    service: str,
    topic: str,
    partition: int,
    offset: int,
    attempt: int,
    first_failure_at: datetime,
) -> list[tuple[str, bytes]]:
    values = {
        "error.class": f"{type(error).__module__}.{type(error).__qualname__}",
        "error.message": str(error)[:_MAX_MESSAGE],
        "stage": stage,
        "service": service,
        "source.topic": topic,
        "source.partition": str(partition),
        "source.offset": str(offset),
        "attempt": str(attempt),
        "first-failure-at": first_failure_at.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    return [*strip_dead_letter_headers(original), *((_PREFIX + k, v.encode()) for k, v in values.items())]


def strip_dead_letter_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The headers as they were on the source record (a replayed-then-failed record stays clean)."""
    return [(k, v) for k, v in headers if not k.startswith(_PREFIX)]


def parse_dead_letter(
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]] | None,
) -> DeadLetter:
    found: Mapping[str, str] = {
        k[len(_PREFIX) :]: (v or b"").decode("utf-8", "replace")
        for k, v in headers or ()
        if k.startswith(_PREFIX)
    }
    return DeadLetter(
        dlq_partition=partition,
        dlq_offset=offset,
        key=key,
        value=value,
        original_headers=strip_dead_letter_headers(headers or ()),
        error_class=found.get("error.class", ""),
        error_message=found.get("error.message", ""),
        stage=found.get("stage", ""),
        service=found.get("service", ""),
        source_topic=found.get("source.topic", ""),
        source_partition=int(found.get("source.partition", "-1")),
        source_offset=int(found.get("source.offset", "-1")),
        attempt=int(found.get("attempt", "0")),
        first_failure_at=found.get("first-failure-at", ""),
    )


def read_dead_letters(
    client_config: Mapping[str, str], service: str, timeout_s: float = 30.0
) -> list[DeadLetter]:
    """Every committed dead letter of ``service`` (read_committed, from the beginning)."""
    topic = f"dlq.{service}"
    try:
        messages = read_to_end(client_config, topic, f"esb-dlq-reader.{service}", timeout_s)
    except LookupError:
        raise LookupError(f"no dead-letter topic {topic}") from None
    return [
        parse_dead_letter(
            message.partition() or 0,
            message.offset() or 0,
            message.key(),
            message.value(),
            _bytes_headers(message.headers()),
        )
        for message in messages
    ]


def matches(letter: DeadLetter, filters: Mapping[str, str]) -> bool:
    """``filters`` keys: error-class (substring), stage, source-topic, source-partition, key (exact)."""
    checks: dict[str, Callable[[str], bool]] = {
        "error-class": lambda v: v in letter.error_class,
        "stage": lambda v: v == letter.stage,
        "source-topic": lambda v: v == letter.source_topic,
        "source-partition": lambda v: int(v) == letter.source_partition,
        "key": lambda v: letter.key is not None and v == letter.key.decode("utf-8", "replace"),
    }
    for name, wanted in filters.items():
        if name not in checks:
            raise ValueError(f"unknown filter {name!r}; use one of {sorted(checks)}")
        if not checks[name](wanted):
            return False
    return True


def replay(
    client_config: Mapping[str, str], letters: Sequence[DeadLetter], to_topic: str | None = None
) -> int:
    """Re-inject the original bytes and headers (plus ``esb.replayed-from``) to their source topic."""
    from confluent_kafka import Producer

    from bus.clients import producer_config

    producer = Producer(producer_config(client_config))  # a replayed key goes where Java puts it
    for letter in letters:
        headers: list[tuple[str, str | bytes | None]] = [
            *letter.original_headers,
            ("esb.replayed-from", f"{letter.dlq_partition}:{letter.dlq_offset}".encode()),
        ]
        producer.produce(to_topic or letter.source_topic, letter.value, key=letter.key, headers=headers)
    remaining = producer.flush(30)
    if remaining:
        raise TimeoutError(f"{remaining} replayed records not acknowledged")
    return len(letters)


def _bytes_headers(headers: Any) -> list[tuple[str, bytes]]:
    return [
        (name, value if isinstance(value, bytes) else (value or "").encode()) for name, value in headers or ()
    ]
