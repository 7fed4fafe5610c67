"""Every failure maps to exactly one outcome; Kafka errors map to one transaction action."""

from __future__ import annotations

import random

import pytest
from confluent_kafka import KafkaError

from bus.errors import DeadLetterError, FatalError, Outcome, RetryableError, TxnAction, outcome_of, txn_action
from bus.retry import RetryPolicy
from bus.serde import SerdeError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (RetryableError("x"), Outcome.RETRY),
        (TimeoutError(), Outcome.RETRY),
        (ConnectionResetError(), Outcome.RETRY),
        (DeadLetterError("x"), Outcome.DEAD_LETTER),
        (SerdeError("x"), Outcome.DEAD_LETTER),
        (KeyError("bug triggered by this record"), Outcome.DEAD_LETTER),
        (FatalError("x"), Outcome.CRASH),
        (MemoryError(), Outcome.CRASH),
        (KeyboardInterrupt(), Outcome.CRASH),
    ],
)
def test_outcome_of(exc: BaseException, outcome: Outcome) -> None:
    assert outcome_of(exc) is outcome


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (KafkaError(KafkaError._FENCED, fatal=True), TxnAction.CRASH),
        (KafkaError(KafkaError.PRODUCER_FENCED), TxnAction.CRASH),
        (KafkaError(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, fatal=True), TxnAction.CRASH),
        (KafkaError(KafkaError.INVALID_TXN_STATE, fatal=True), TxnAction.RECREATE),
        (KafkaError(KafkaError.ILLEGAL_GENERATION, txn_requires_abort=True), TxnAction.ABORT),
        (KafkaError(KafkaError._MSG_TIMED_OUT, txn_requires_abort=True, retriable=True), TxnAction.ABORT),
        (KafkaError(KafkaError.COORDINATOR_NOT_AVAILABLE, retriable=True), TxnAction.RETRY),
        (KafkaError(KafkaError._TIMED_OUT), TxnAction.RECREATE),
        (KafkaError(KafkaError.MSG_SIZE_TOO_LARGE), TxnAction.ABORT),
    ],
)
def test_txn_action_follows_librdkafka_flags(error: KafkaError, action: TxnAction) -> None:
    assert txn_action(error) is action


def test_backoff_is_bounded_exponential_with_jitter() -> None:
    policy = RetryPolicy(attempts=6, initial_backoff_s=0.1, max_backoff_s=0.5)
    rng = random.Random(1)
    delays = [[policy.backoff(attempt, rng) for _ in range(200)] for attempt in range(1, 6)]
    ceilings = [0.1, 0.2, 0.4, 0.5, 0.5]
    for samples, ceiling in zip(delays, ceilings, strict=True):
        assert all(0 <= d <= ceiling for d in samples)
        assert max(samples) > ceiling * 0.8  # jitter spreads over the whole window
        assert len(set(samples)) > 100
    assert policy.budget_s == pytest.approx(0.1 + 0.2 + 0.4 + 0.5 + 0.5)
