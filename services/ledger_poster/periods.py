"""Posting dates and accounting periods (calendar months), with closed periods rolled forward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.ledger_poster.chart import Entity

__all__ = ["Posting", "period_of", "posting_for"]


@dataclass(frozen=True, slots=True)
class Posting:
    """Where an entry lands: its posting date, its period and, when moved, the source date."""

    posting_date: date
    period: str
    original_date: date | None = None


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _closed(entity: Entity, period: str) -> bool:
    if entity.closed_through is not None and period <= entity.closed_through:
        return True
    return period in entity.closed_periods


def posting_for(entity: Entity, occurred_at: datetime) -> Posting:
    """The books' date of ``occurred_at`` (entity time zone); a closed period moves to the next open one.

    A moved entry posts on the first day of the first open period and keeps the source date.
    """
    day = occurred_at.astimezone(ZoneInfo(entity.timezone)).date()
    period = period_of(day)
    if not _closed(entity, period):
        return Posting(day, period)
    moved = _next_month(day)
    while _closed(entity, period_of(moved)):
        moved = _next_month(moved)
    return Posting(moved, period_of(moved), original_date=day)
