"""Canonical returns events."""

from schemas.returns.models import (
    RefundAdjustment,
    RefundTransaction,
    RestockDecision,
    ReturnChange,
    ReturnEvent,
    ReturnLine,
)

__all__ = [
    "RefundAdjustment",
    "RefundTransaction",
    "RestockDecision",
    "ReturnChange",
    "ReturnEvent",
    "ReturnLine",
]
