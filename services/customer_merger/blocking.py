"""Blocking: the few stored source records worth comparing with an incoming one.

Each source record is indexed under a handful of keys (exact email, email local part, phone,
phonetic name pair + postal code / city / country, postal code + house number). Candidates are the
union of the records under the incoming record's keys. A key shared by more than
``max_block_size`` records (a store's default phone, "John Smith" in one country) says little
about identity and costs a lot: it is marked overflowed (``["*"]``) and no longer used.
"""

from __future__ import annotations

from collections.abc import Iterable

import jellyfish

from services.customer_merger.books import Books
from services.customer_merger.records import SourceRecord

__all__ = ["OVERFLOW", "blocking_keys", "candidates", "index", "unindex"]

OVERFLOW = "*"
_PREFIX = "b:"


def _phonetic(key: str) -> str:
    return jellyfish.metaphone(key)[:6] if key else ""


def blocking_keys(record: SourceRecord) -> list[str]:
    keys: list[str] = []
    if record.email:
        keys.append(f"e:{record.email}")
        local = record.email.rpartition("@")[0]
        if len(local) >= 6:
            keys.append(f"el:{local}")
    if record.phone:
        keys.append(f"p:{record.phone}")
    first = record.first_key.split(" ")[0] if record.first_key else ""
    last = record.last_key.split(" ")[-1] if record.last_key else ""
    # Order-free name keys so that swapped first/last names block together.
    sounds = sorted(s for s in (jellyfish.soundex(first) if first else "", _phonetic(last)) if s)
    pair = "|".join(sorted(p for p in (_phonetic(first), _phonetic(last)) if p))
    for address in record.address_keys[:3]:
        postal, number, city = address.get("postal", ""), address.get("number", ""), address.get("city", "")
        if postal:
            keys.extend(f"np:{sound}:{postal}" for sound in sounds)
            if number:
                keys.append(f"ap:{postal}:{number}")
        if city and pair:
            keys.append(f"nc:{pair}:{city}")
    if pair and "|" in pair:
        country = record.address_keys[0].get("country", "") if record.address_keys else ""
        keys.append(f"nn:{pair}:{country}")
    return sorted(set(keys))


def index(books: Books, customer_id: str, keys: Iterable[str], max_block_size: int) -> None:
    for key in keys:
        members: list[str] = books.get(_PREFIX + key) or []
        if members[:1] == [OVERFLOW] or customer_id in members:
            continue
        if len(members) + 1 > max_block_size:
            books.put(_PREFIX + key, [OVERFLOW])
        else:
            books.put(_PREFIX + key, sorted([*members, customer_id]))


def unindex(books: Books, customer_id: str, keys: Iterable[str]) -> None:
    for key in keys:
        members: list[str] = books.get(_PREFIX + key) or []
        if customer_id not in members:
            continue
        rest = [member for member in members if member != customer_id]
        if rest:
            books.put(_PREFIX + key, rest)
        else:
            books.delete(_PREFIX + key)


def candidates(books: Books, keys: Iterable[str], exclude: str, limit: int) -> list[str]:
    """Distinct candidate source ids, those sharing the most keys first, at most ``limit``."""
    hits: dict[str, int] = {}
    for key in keys:
        members: list[str] = books.get(_PREFIX + key) or []
        if members[:1] == [OVERFLOW]:
            continue
        for member in members:
            if member != exclude:
                hits[member] = hits.get(member, 0) + 1
    ranked = sorted(hits, key=lambda member: (-hits[member], member))
    return ranked[:limit]
