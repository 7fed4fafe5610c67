"""Split an X12 interchange into its transaction sets (ST..SE), keeping each one's bytes as received.

The delimiters come from the ISA segment: the element separator is its 4th byte; ISA16, after the
16th element separator, is the component separator and the byte after it ends the segment. Counting
separators instead of fixed offsets also reads interchanges whose ISA padding was collapsed.
Control-number mismatches are tolerated (real partners send them); structure errors are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Delimiters", "TransactionSet", "X12Error", "delimiters", "looks_like_x12", "split_interchange"]

_FORMATTING = b" \t\r\n"


class X12Error(ValueError):
    """The document is not a well-formed X12 interchange: nothing of it is written."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: bytes
    component: bytes
    segment: bytes


@dataclass(frozen=True, slots=True)
class TransactionSet:
    set_id: str
    control_number: str
    raw: bytes
    isa: bytes
    gs: bytes
    sender_id: str
    interchange_control: str
    group_control: str
    delimiters: Delimiters

    @property
    def event_id(self) -> str:
        """Stable across re-sends of the same interchange: sender, ISA13, GS06, ST02."""
        return f"{self.sender_id}:{self.interchange_control}:{self.group_control}:{self.control_number}"


def looks_like_x12(data: bytes) -> bool:
    return data.lstrip(_FORMATTING + b"\xef\xbb\xbf").startswith(b"ISA")


def delimiters(data: bytes) -> Delimiters:
    start = data.find(b"ISA")
    if start < 0 or not looks_like_x12(data):
        raise X12Error("document does not start with an ISA segment")
    element = data[start + 3 : start + 4]
    position = start + 3
    for _ in range(15):
        position = data.find(element, position + 1)
        if position < 0:
            raise X12Error("ISA segment has fewer than 16 elements")
    component = data[position + 1 : position + 2]
    segment = data[position + 2 : position + 3]
    if not component or not segment or len({element, component, segment}) < 3:
        raise X12Error("ISA does not declare three distinct delimiters")
    return Delimiters(element, component, segment)


def _segments(data: bytes, terminator: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(start, end including terminator, segment without terminator) for each segment."""
    position = 0
    while position < len(data):
        while position < len(data) and data[position] in _FORMATTING:
            position += 1
        if position >= len(data):
            return
        end = data.find(terminator, position)
        if end < 0:
            raise X12Error("last segment is not terminated")
        yield position, end + len(terminator), data[position:end]
        position = end + len(terminator)


def split_interchange(data: bytes) -> list[TransactionSet]:
    """Every transaction set of every functional group, in document order."""
    found = delimiters(data)
    isa = gs = b""
    isa_fields: list[bytes] = []
    gs_fields: list[bytes] = []
    open_set: tuple[int, list[bytes]] | None = None
    sets: list[TransactionSet] = []
    for start, end, segment in _segments(data, found.segment):
        fields = segment.split(found.element)
        tag = fields[0]
        if tag == b"ISA":
            isa, isa_fields = data[start:end], fields
        elif tag == b"GS":
            gs, gs_fields = data[start:end], fields
        elif tag == b"ST":
            if open_set is not None:
                raise X12Error("ST inside an open transaction set")
            if len(fields) < 3 or not isa or not gs:
                raise X12Error("ST outside an ISA/GS envelope or without a control number")
            open_set = (start, fields)
        elif tag == b"SE":
            if open_set is None:
                raise X12Error("SE without ST")
            st_start, st_fields = open_set
            sets.append(
                TransactionSet(
                    set_id=st_fields[1].decode("ascii", "replace"),
                    control_number=st_fields[2].decode("ascii", "replace"),
                    raw=data[st_start:end],
                    isa=isa,
                    gs=gs,
                    sender_id=(isa_fields[6] if len(isa_fields) > 6 else b"")
                    .strip()
                    .decode("ascii", "replace"),
                    interchange_control=(isa_fields[13] if len(isa_fields) > 13 else b"").decode(
                        "ascii", "replace"
                    ),
                    group_control=(gs_fields[6] if len(gs_fields) > 6 else b"").decode("ascii", "replace"),
                    delimiters=found,
                )
            )
            open_set = None
    if open_set is not None:
        raise X12Error("transaction set without SE")
    if not sets:
        raise X12Error("no transaction sets found")
    return sets
