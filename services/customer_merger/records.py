"""The merger's internal values: a normalised source record, an order fact, and the match-topic record.

:class:`MatchInput` is what the forwarding step writes to the single-partition match topic (JSON,
internal to this service): everything is normalised already, so the single matcher only blocks,
scores and keeps the books.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.common.models import Address, SourceRef

__all__ = ["InputKind", "MatchInput", "OrderFact", "SourceRecord"]


class SourceRecord(BaseModel):
    """One source customer record (or an order's customer snapshot), normalised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    source: SourceRef
    is_guest: bool = False
    email: str | None = None
    email_relay: bool = Field(default=False, description="a marketplace relay address (per buyer and seller)")
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    first_key: str = ""
    last_key: str = ""
    addresses: list[Address] = Field(default_factory=list)
    address_keys: list[dict[str, str]] = Field(default_factory=list)
    updated_at_ms: int = 0

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> SourceRecord:
        return cls.model_validate(data)

    @property
    def filled(self) -> int:
        """How many identifying fields are present (orders of completeness)."""
        return sum(
            bool(value)
            for value in (self.email, self.phone, self.first_key, self.last_key, self.address_keys)
        )


class OrderFact(BaseModel):
    """What the 360 summary needs from one order (its latest version wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    channel: str
    placed_at_ms: int
    currency: str
    net_total: str = Field(description="Decimal as text: total (current total when edited) minus refunds")
    cancelled: bool = False


class InputKind(StrEnum):
    CUSTOMER = "customer"
    CUSTOMER_DELETED = "customer_deleted"
    ORDER = "order"
    ERASURE = "erasure"
    STEWARD_MERGE = "steward_merge"
    STEWARD_UNMERGE = "steward_unmerge"


class MatchInput(BaseModel):
    """One record of the match topic. Key: the source customer id (or request/command id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: InputKind
    event_id: str
    occurred_at_ms: int
    record: SourceRecord | None = None
    order: OrderFact | None = None
    # erasure: any of these identify the person
    erase_customer_ids: list[str] = Field(default_factory=list)
    erase_golden_ids: list[str] = Field(default_factory=list)
    erase_email: str | None = None
    # steward commands
    golden_id: str | None = None
    other_golden_ids: list[str] = Field(default_factory=list)
    customer_ids: list[str] = Field(default_factory=list)
