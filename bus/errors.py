"""Failure outcomes: every exception maps to exactly one of retry, dead-letter or crash.

Handlers raise the first three exceptions; the runtime maps everything else. Exceptions are named
after what happens next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from confluent_kafka import KafkaError, KafkaException

__all__ = [
    "DeadLetterError",
    "FatalError",
    "Outcome",
    "OutputRejectedError",
    "PermanentError",
    "RetryableError",
    "SerdeError",
    "Source",
    "TransactionError",
    "TxnAction",
    "kafka_error_of",
    "outcome_of",
    "rejects_record",
    "txn_action",
]


class SerdeError(Exception):
    """The record's bytes or value cannot be decoded or encoded: it is dead-lettered."""


class RetryableError(Exception):
    """Transient: the record is retried with bounded exponential backoff, then dead-lettered."""


class DeadLetterError(Exception):
    """Permanent for this record: it goes to ``dlq.<service>`` with the reason; processing goes on."""


PermanentError = DeadLetterError


class OutputRejectedError(DeadLetterError):
    """The broker refused an output of this record for good (too large, invalid, no such topic):
    the input is dead-lettered with stage ``produce`` in a new transaction; processing goes on."""


class FatalError(Exception):
    """The process cannot go on (broken config, fenced identity): it crashes and is restarted."""


class Outcome(StrEnum):
    RETRY = "retry"
    DEAD_LETTER = "dead-letter"
    CRASH = "crash"


def outcome_of(exc: BaseException) -> Outcome:
    """The one outcome for an exception raised while decoding, handling or encoding a record.

    Anything not declared otherwise is a property of the record (a handler bug triggered by this
    input, a validation error): it is dead-lettered so that it never stalls its partition.
    Interpreter-level failures crash the process.
    """
    if isinstance(exc, FatalError | MemoryError | SystemExit | KeyboardInterrupt | RecursionError):
        return Outcome.CRASH
    if isinstance(exc, RetryableError | TimeoutError | ConnectionError):
        return Outcome.RETRY
    if isinstance(exc, DeadLetterError | SerdeError | Exception):
        return Outcome.DEAD_LETTER
    return Outcome.CRASH


class TxnAction(StrEnum):
    """What the transaction boundary does after a Kafka error."""

    RETRY = "retry"  # call the same API again (retriable, e.g. a coordinator move)
    ABORT = "abort"  # abort the transaction and rewind to the committed offsets
    RECREATE = "recreate"  # the producer is unusable (fatal) or the outcome is unknown (timeout)
    CRASH = "crash"  # another process owns our identity, or the configuration is wrong


# Another process with the same transactional.id / group.instance.id took over: this one is the
# zombie. Re-creating the producer would fence the newer process in turn, so step aside instead.
_FENCED = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.FENCED_INSTANCE_ID})
_CONFIG = frozenset(
    {
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._AUTHENTICATION,
    }
)


def txn_action(error: KafkaError) -> TxnAction:
    """Classify a transactional API error with librdkafka's own flags, in their priority order."""
    code = error.code()
    if code in _FENCED or code in _CONFIG:
        return TxnAction.CRASH
    if error.fatal():
        return TxnAction.RECREATE
    if error.txn_requires_abort():
        return TxnAction.ABORT
    if error.retriable():
        return TxnAction.RETRY
    if code == KafkaError._TIMED_OUT:
        return TxnAction.RECREATE
    return TxnAction.ABORT


def kafka_error_of(exc: KafkaException) -> KafkaError:
    first: Any = exc.args[0] if exc.args else None
    if isinstance(first, KafkaError):
        return first
    return KafkaError(KafkaError._FAIL, str(exc))


# Errors a broker (or librdkafka, before sending) gives one record for good: retrying the record
# cannot succeed, so its input is dead-lettered instead of failing every transaction it is in.
_REJECTED = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,  # over the topic's max.message.bytes (or message.max.bytes)
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_RECORD,  # e.g. a compacted topic and a null key
        KafkaError.INVALID_MSG,  # CORRUPT_MESSAGE
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.POLICY_VIOLATION,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
    }
)

Source = tuple[str, int, int]  # (topic, partition, offset) of the input record


def rejects_record(error: KafkaError) -> bool:
    """The error refuses one record permanently (not the transaction, not the client)."""
    return error.code() in _REJECTED and not error.fatal()


@dataclass(slots=True)
class TransactionError(Exception):
    """A transaction could not be committed; raised to the loop with the action to take.

    ``rejected``: input records whose outputs the broker refused for good (:func:`rejects_record`),
    with the error; after the abort the loop dead-letters them instead of processing them again.
    """

    action: TxnAction
    step: str
    error: KafkaError | None
    rejected: dict[Source, KafkaError] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.step}: {self.action} ({self.error})"
