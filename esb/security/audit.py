"""The audit trail: administrative actions as JSON records in the append-only ``audit.v1`` topic.

A record says who (the operator and the Kafka principal they acted as), what (an action on a
target), when (UTC), why (the reason the operator gave) and the details. ``audit.v1`` keeps records
for 400 days (``cleanup.policy=delete``, never compacted); no principal but the admin has
``WRITE`` on it, and none has ``DELETE`` (no ``DeleteRecords``), so records cannot be rewritten or
removed through Kafka. Details pass through the log redactor: no secret or card number lands here.

Administrative commands call :func:`record_action` after the change succeeded; a failed audit write
raises :class:`AuditWriteError`, so the operator sees that the action went unrecorded.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from bus.config import KafkaSettings
from bus.observability.redaction import Redactor
from bus.topic_reader import read_to_end

__all__ = [
    "AUDIT_TOPIC",
    "AuditAction",
    "AuditRecord",
    "AuditWriteError",
    "emit",
    "new_record",
    "read_audit",
    "record_action",
]

AUDIT_TOPIC = "audit.v1"


class AuditWriteError(RuntimeError):
    """The audit record was not acknowledged by the broker: the action is done but unrecorded."""


class AuditAction(StrEnum):
    ACL_CHANGE = "acl.change"
    SCHEMA_REGISTER = "schema.register"
    TOPIC_CHANGE = "topic.change"
    DLQ_REPLAY = "dlq.replay"
    ERASURE_REQUEST = "erasure.request"
    MANUAL_MERGE = "customer.merge"
    MANUAL_UNMERGE = "customer.unmerge"


class AuditRecord(BaseModel):
    """One administrative action. Keyed in Kafka by ``target``, so one target's history is ordered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    who: str = Field(min_length=1, description="the operator (OS user or the name they gave)")
    principal: str | None = Field(default=None, description="the Kafka principal the action ran as")
    action: AuditAction
    target: str = Field(min_length=1, description="what was acted on: topic, subject, service, id")
    when: AwareDatetime
    why: str = Field(min_length=1, description="the reason the operator gave")
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("when")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_record(
    action: AuditAction,
    target: str,
    why: str,
    details: Mapping[str, Any] | None = None,
    *,
    who: str | None = None,
    principal: str | None = None,
) -> AuditRecord:
    """A record stamped now (UTC), with ``details`` scrubbed of secrets, card numbers and PII."""
    scrubbed = Redactor().scrub(dict(details or {}))
    return AuditRecord(
        who=who or _operator(),
        principal=principal,
        action=action,
        target=target,
        when=dt.datetime.now(dt.UTC),
        why=why,
        details=scrubbed,
    )


def emit(
    client_config: Mapping[str, str], record: AuditRecord, topic: str = AUDIT_TOPIC, timeout_s: float = 30.0
) -> tuple[int, int]:
    """Write ``record`` and wait for the broker's acknowledgement; returns (partition, offset)."""
    producer = Producer({**client_config, "enable.idempotence": True, "acks": "all", "linger.ms": 0})
    outcome: dict[str, Any] = {}

    def delivered(error: KafkaError | None, message: Any) -> None:
        outcome["error"] = error
        if error is None:
            outcome["at"] = (message.partition(), message.offset())

    try:
        producer.produce(
            topic,
            record.model_dump_json().encode(),
            key=record.target.encode(),
            headers=[
                ("content-type", b"application/json"),
                ("esb.audit.action", record.action.value.encode()),
            ],
            on_delivery=delivered,
        )
    except (KafkaException, BufferError) as exc:
        raise AuditWriteError(
            f"audit record for {record.action} on {record.target} not written: {exc}"
        ) from exc
    producer.flush(timeout_s)
    if outcome.get("error") is not None or "at" not in outcome:
        reason = outcome.get("error") or "no acknowledgement in time"
        raise AuditWriteError(f"audit record for {record.action} on {record.target} not written: {reason}")
    at: tuple[int, int] = outcome["at"]
    return at


def record_action(
    settings: KafkaSettings,
    action: AuditAction,
    target: str,
    why: str,
    details: Mapping[str, Any] | None = None,
    *,
    who: str | None = None,
    topic: str = AUDIT_TOPIC,
) -> AuditRecord:
    """The one call administrative commands make: build, stamp and write a record as ``settings``."""
    record = new_record(action, target, why, details, who=who, principal=settings.sasl_username)
    emit(settings.client_config(), record, topic)
    return record


def read_audit(
    client_config: Mapping[str, str], topic: str = AUDIT_TOPIC, timeout_s: float = 30.0
) -> list[AuditRecord]:
    """Every record in ``topic``, oldest first per partition (assigned, never committed).

    librdkafka still looks up the group's coordinator, so the group is the reader's own (named after
    its principal, which the catalog's ACLs grant).
    """
    group = client_config.get("sasl.username") or "esb-audit-reader"
    try:
        messages = read_to_end(client_config, topic, group, timeout_s)
    except LookupError:
        raise LookupError(f"no audit topic {topic}") from None
    return [AuditRecord.model_validate(json.loads(message.value() or b"{}")) for message in messages]
