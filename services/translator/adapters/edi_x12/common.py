"""Settings and the pieces every X12 mapping shares: N1 party loops, product ids, dates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from schemas.common.models import Address
from services.translator.adapters.edi_x12.envelope import Segment, Transaction
from services.translator.convert import day_start, zone

__all__ = ["SKU_QUALIFIERS", "EdiSettings", "Party", "instant", "parties", "sku_of"]


@dataclass(frozen=True, slots=True)
class EdiSettings:
    """Per trading partner: what the documents do not say."""

    default_currency: str = "USD"
    """850s rarely carry CUR: their currency is the trading agreement's"""
    timezone: str = "UTC"
    """X12 dates and times are the partner's local time"""
    enforce_segment_counts: bool = False
    """reject when SE01 miscounts the set (the 945 sample does); envelope checks belong to ingest's 997"""
    locations: Mapping[str, str] = field(default_factory=dict)
    """N1 WH/SF id (N104) -> canonical location code; default: the id itself"""


# Product id qualifiers, most preferred first, for the SKU of the seller receiving the document.
SKU_QUALIFIERS = ("VN", "SK", "VP", "VA", "UP", "UK", "EN", "IN", "BP", "CB")


def sku_of(ids: Iterable[tuple[str, str]]) -> str | None:
    found = dict(ids)
    return next((found[q] for q in SKU_QUALIFIERS if q in found), None)


@dataclass(frozen=True, slots=True)
class Party:
    n1: Segment
    address: Address

    @property
    def code(self) -> str | None:
        """N104 (GLN, DUNS, warehouse code...) or, without it, the name."""
        return self.n1.opt(4) or self.n1.opt(2)


def parties(transaction: Transaction, within: Iterable[Segment] | None = None) -> dict[str, Party]:
    """N1 loops (N1 + N2/N3/N4) by entity code (ST ship-to, BT bill-to, WH warehouse, SF ship-from...)."""
    found: dict[str, Party] = {}
    segments = list(within if within is not None else transaction.segments)
    for index, n1 in enumerate(segments):
        if n1.tag != "N1":
            continue
        street: list[str] = []
        city = region = postal = country = None
        for follower in segments[index + 1 :]:
            if follower.tag == "N3":
                street += [line for line in (follower.opt(1), follower.opt(2)) if line]
            elif follower.tag == "N4":
                city, region, postal, country = (
                    follower.opt(1),
                    follower.opt(2),
                    follower.opt(3),
                    follower.opt(4),
                )
            elif follower.tag not in ("N2", "PER", "REF"):
                break
        address = Address(
            name=n1.opt(2),
            street_lines=street,
            city=city,
            region_code=region,
            postal_code=postal,
            country_code=country,
        )
        found.setdefault(n1.text(1), Party(n1, address))
    return found


def instant(settings: EdiSettings, day: date, at: time | None = None) -> datetime:
    return day_start(day, zone(settings.timezone), at)
