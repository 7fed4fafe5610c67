"""Returns and refunds, namespace ``com.esb.canonical.returns``."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, UtcDatetime
from schemas.common.models import EventMetadata, Money, TaxLine

__all__ = [
    "RefundAdjustment",
    "RefundTransaction",
    "RestockDecision",
    "ReturnChange",
    "ReturnEvent",
    "ReturnLine",
]


class ReturnChange(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class RestockDecision(StrEnum):
    NO_RESTOCK = "NO_RESTOCK"
    RETURN_TO_STOCK = "RETURN_TO_STOCK"
    CANCEL = "CANCEL"
    UNKNOWN = "UNKNOWN"


class ReturnLine(AvroRecord):
    order_line_id: str = Field(description="native id of the order line")
    sku: str | None = None
    quantity: int = Field(description="positive, in the order line's unit")
    reason: str | None = None
    restock: RestockDecision = RestockDecision.UNKNOWN
    restock_location: str | None = None
    subtotal: Money = Field(description="refunded for the goods, positive, before tax")
    tax: Money
    tax_lines: list[TaxLine] = Field(default_factory=list, description="the tax refunded, per jurisdiction")
    unit_cost: Money | None = Field(
        default=None, description="inventory cost per unit, when the source knows it"
    )


class RefundAdjustment(AvroRecord):
    """Order-level money that is not a line: refunded shipping, fees, discrepancies."""

    kind: str = Field(description="shipping, restocking_fee, discrepancy...")
    amount: Money = Field(description="signed: positive is money back to the buyer")
    reason: str | None = None


class RefundTransaction(AvroRecord):
    processor: str | None = None
    processor_reference: str | None = None
    amount: Money
    succeeded: bool = True


class ReturnEvent(AvroRecord):
    """Value of ``canonical.returns.v1``: a return and/or refund of an order. Key: ``return_id``."""

    metadata: EventMetadata
    change: ReturnChange
    return_id: UUID = Field(description="canonical id of the return/refund document")
    order_id: UUID
    native_id: str
    order_native_id: str
    reason: str | None = None
    note: str | None = None
    lines: list[ReturnLine] = Field(default_factory=list)
    adjustments: list[RefundAdjustment] = Field(default_factory=list)
    refund_total: Money | None = Field(default=None, description="money returned to the buyer, positive")
    transactions: list[RefundTransaction] = Field(default_factory=list)
    created_at: UtcDatetime
