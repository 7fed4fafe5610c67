"""The router's internal records (JSON on its two repartition topics); not part of the canonical model.

``<service>.by-sku.repartition`` (key: SKU) carries inventory levels and the commands of the order
stage to the partition that owns the SKU's allocation; ``<service>.by-order.repartition`` (key:
order id) carries the answers back to the partition that owns the order, and the SKU stage's
backorder fills (:class:`RestockedReply`), which no command asked for.

New fields and kinds are not readable by an older router: upgrade every instance together.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.order_router.rules import Policy

__all__ = [
    "AllocateCommand",
    "AllocatedReply",
    "LevelUpdate",
    "LineAsk",
    "LineBackorder",
    "LineRelease",
    "OrderReply",
    "Placed",
    "QuoteCommand",
    "QuotedReply",
    "ReleaseCommand",
    "RestockedReply",
    "SkuCommand",
]


class _Msg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelUpdate(_Msg):
    kind: Literal["level"] = "level"
    sku: str
    location: str
    on_hand: int
    reserved: int
    safety_stock: int = 0
    revision: int | None = None
    at_ms: int | None = Field(default=None, description="the level's as-of instant")


class LineAsk(_Msg):
    line_id: str
    quantity: int = Field(gt=0)
    locations: tuple[str, ...]


class LineRelease(_Msg):
    line_id: str
    location: str
    quantity: int = Field(gt=0)


class LineBackorder(_Msg):
    line_id: str
    quantity: int = Field(gt=0)


class _OrderCommand(_Msg):
    request_id: str
    order_id: str
    sku: str
    at_ms: int = Field(description="occurred-at of the order event behind the command")
    placed_at_ms: int
    causation_id: str
    correlation_id: str


class AllocateCommand(_OrderCommand):
    kind: Literal["allocate"] = "allocate"
    lines: tuple[LineAsk, ...]
    policy: Policy


class ReleaseCommand(_OrderCommand):
    kind: Literal["release"] = "release"
    releases: tuple[LineRelease, ...]
    backorders: tuple[LineBackorder, ...] = Field(
        default=(), description="backordered units the order no longer waits for"
    )


class QuoteCommand(_OrderCommand):
    kind: Literal["quote"] = "quote"
    locations: tuple[str, ...]


class SkuCommand(_Msg):
    body: Annotated[
        LevelUpdate | AllocateCommand | ReleaseCommand | QuoteCommand, Field(discriminator="kind")
    ]


class Placed(_Msg):
    line_id: str
    location: str | None = Field(description="None = backordered")
    quantity: int = Field(gt=0)


class _Reply(_Msg):
    request_id: str
    order_id: str
    sku: str
    placed_at_ms: int


class AllocatedReply(_Reply):
    kind: Literal["allocated"] = "allocated"
    placed: tuple[Placed, ...]


class QuotedReply(_Reply):
    kind: Literal["quoted"] = "quoted"
    available: dict[str, int]


class RestockedReply(_Reply):
    """Backordered units of one line the SKU stage reserved when stock arrived (request id: a fill)."""

    kind: Literal["restocked"] = "restocked"
    at_ms: int = Field(description="the instant of the stock change behind the fill")
    placed: tuple[Placed, ...]


class OrderReply(_Msg):
    body: Annotated[AllocatedReply | QuotedReply | RestockedReply, Field(discriminator="kind")]
