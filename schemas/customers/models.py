"""Customers, namespace ``com.esb.canonical.customers``: source records, golden records, merges,
the source-id crosswalk and erasure requests."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, UtcDatetime, pii
from schemas.common.models import Address, EventMetadata, Money, SourceRef

__all__ = [
    "ConsentState",
    "CrosswalkEntry",
    "CustomerChange",
    "CustomerEvent",
    "CustomerMatchReview",
    "CustomerMergeEvent",
    "CustomerStewardCommand",
    "CustomerSummary",
    "ErasureRequest",
    "GoldenCustomer",
    "MatchEvidence",
    "MergeKind",
    "SourceCustomer",
]


class CustomerChange(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    UNKNOWN = "UNKNOWN"


class ConsentState(StrEnum):
    SUBSCRIBED = "SUBSCRIBED"
    NOT_SUBSCRIBED = "NOT_SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"


class MergeKind(StrEnum):
    MERGE = "MERGE"
    UNMERGE = "UNMERGE"
    UNKNOWN = "UNKNOWN"


class SourceCustomer(AvroRecord):
    """A customer record exactly as one source account holds it."""

    customer_id: UUID = Field(description="canonical_id(system, account, 'customer', native_id)")
    native_id: str
    email: str | None = pii()
    phone: str | None = pii()
    first_name: str | None = pii()
    last_name: str | None = pii()
    company: str | None = pii()
    addresses: list[Address] = Field(default_factory=list)
    default_address_index: int | None = Field(default=None, description="index into addresses")
    email_marketing: ConsentState = ConsentState.UNKNOWN
    sms_marketing: ConsentState = ConsentState.UNKNOWN
    state: str | None = Field(default=None, description="the source's account state: enabled, disabled...")
    tax_exempt: bool = False
    tags: list[str] = Field(default_factory=list)
    note: str | None = pii()
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class CustomerEvent(AvroRecord):
    """Value of ``canonical.customers.v1``. Key: ``customer.customer_id``."""

    metadata: EventMetadata
    change: CustomerChange
    customer: SourceCustomer


class CustomerSummary(AvroRecord):
    """Customer 360 figures folded from the orders of every member of a golden record."""

    order_count: int = Field(description="orders placed, cancelled ones excluded")
    lifetime_value: list[Money] = Field(
        default_factory=list,
        description="net order totals (after refunds) per shop currency, sorted by currency",
    )
    first_order_at: UtcDatetime | None = None
    last_order_at: UtcDatetime | None = None
    channels: list[str] = Field(default_factory=list, description="sales channels ordered through, sorted")


class GoldenCustomer(AvroRecord):
    """Value of the compacted ``canonical.golden-customers.v1``. Key: ``golden_id``; tombstone on erasure."""

    metadata: EventMetadata
    golden_id: UUID = Field(description="stable across merges; survives as long as any member does")
    revision: int = Field(description="increases with every change of this golden record")
    email: str | None = pii()
    phone: str | None = pii()
    first_name: str | None = pii()
    last_name: str | None = pii()
    company: str | None = pii()
    addresses: list[Address] = Field(default_factory=list)
    members: list[SourceRef] = Field(description="the source customer records merged into this one")
    lineage: dict[str, str] = Field(
        default_factory=dict, description="field name -> canonical id of the source record that won it"
    )
    summary: CustomerSummary | None = Field(default=None, description="Customer 360 figures from orders")


class MatchEvidence(AvroRecord):
    rule: str = Field(description="exact_email, phone_e164, fuzzy_name_address...")
    score: int = Field(description="0-100")
    explanation: str | None = None


class CustomerMergeEvent(AvroRecord):
    """Value of ``canonical.customer-merges.v1``. Key: ``surviving_golden_id``."""

    metadata: EventMetadata
    kind: MergeKind
    surviving_golden_id: UUID
    other_golden_ids: list[UUID] = Field(description="merged into the survivor, or split off by an unmerge")
    source_customer_ids: list[UUID] = Field(default_factory=list, description="source records that moved")
    evidence: list[MatchEvidence] = Field(default_factory=list)


class CrosswalkEntry(AvroRecord):
    """Value of the compacted ``canonical.customer-crosswalk.v1``. Key: ``customer_id``."""

    metadata: EventMetadata
    customer_id: UUID = Field(description="canonical id of the source customer record")
    source: SourceRef
    golden_id: UUID
    evidence: list[MatchEvidence] = Field(
        default_factory=list, description="why the source record is linked to this golden record"
    )


class ErasureRequest(AvroRecord):
    """Value of ``canonical.erasure-requests.v1`` (GDPR/CCPA). Key: ``request_id``."""

    metadata: EventMetadata
    request_id: UUID
    customer_id: UUID | None = None
    golden_id: UUID | None = None
    source: SourceRef | None = None
    email: str | None = pii("to find records when no id is known")
    requested_at: UtcDatetime
    reason: str | None = None


class CustomerMatchReview(AvroRecord):
    """Value of ``canonical.customer-match-reviews.v1``: a possible match held for a data steward.

    Key: ``customer_id``. The source record stays in ``golden_id`` until a steward merges it
    (a :class:`CustomerStewardCommand`). Carries ids and scores only, never personal data.
    """

    metadata: EventMetadata
    review_id: UUID = Field(description="deterministic: the same decision always has the same id")
    customer_id: UUID = Field(description="the source record the decision is about")
    golden_id: UUID = Field(description="where the source record was placed")
    candidate_golden_ids: list[UUID] = Field(description="golden records it possibly belongs to")
    reason: str = Field(description="possible_match, conflicting_do_not_link, shared_identifier...")
    evidence: list[MatchEvidence] = Field(default_factory=list)


class CustomerStewardCommand(AvroRecord):
    """Value of ``canonical.customer-steward-commands.v1``: a steward's merge or split. Key: ``golden_id``.

    MERGE: ``other_golden_ids`` are merged into ``golden_id``. UNMERGE: ``customer_ids`` leave
    ``golden_id`` for a new golden record and are never linked back automatically.
    """

    metadata: EventMetadata
    command_id: UUID
    kind: MergeKind
    golden_id: UUID
    other_golden_ids: list[UUID] = Field(default_factory=list)
    customer_ids: list[UUID] = Field(default_factory=list)
    steward: str | None = Field(default=None, description="who decided (user id, not a name)")
    reason: str | None = None
