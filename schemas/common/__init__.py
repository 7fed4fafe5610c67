"""Named types shared by every domain: money, addresses, event metadata, source references."""

from schemas.common.models import (
    Address,
    DiscountAllocation,
    DocumentRef,
    EventMetadata,
    Money,
    SourceRef,
    TaxLine,
)

__all__ = ["Address", "DiscountAllocation", "DocumentRef", "EventMetadata", "Money", "SourceRef", "TaxLine"]
