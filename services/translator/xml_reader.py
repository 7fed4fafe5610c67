"""Typed, path-tracking access to an XML payload (NetSuite SOAP, SAP IDoc): the XML twin of ``JsonNode``.

Elements are matched by local name, because vendors version their namespaces
(``urn:sales_2011_2.transactions...`` vs ``urn:sales_2016_2...``) while the meaning stays the same.
Paths use 1-based XPath indices (``/Envelope/Body/getResponse/readResponse/record/itemList/item[1]/amount``)
so a DLQ reason can be pasted into any XPath tool. Parsing goes through ``defusedxml``, which
refuses DTDs, entity declarations and external references (billion laughs, XXE).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from services.translator.errors import MISSING, TranslationError

__all__ = ["XmlNode", "local_name", "parse_xml", "sap_instant"]

_MAX_BYTES = 5 * 1024 * 1024
_MAX_DEPTH = 64
# SAP writes negative numbers with a trailing minus ("100.00-").
_SAP_NUMBER = re.compile(r"^\s*(?P<body>[+-]?\d+(?:\.\d*)?|[+-]?\.\d+)(?P<minus>-)?\s*$")


def local_name(tag: str) -> str:
    """``{urn:x}record`` -> ``record``."""
    return tag.rpartition("}")[2]


def parse_xml(raw: bytes) -> XmlNode:
    """Parse XML bytes safely; malformed XML, bad encoding, DTDs/entities or absurd depth are rejected."""
    if len(raw) > _MAX_BYTES:
        raise TranslationError("/", f"at most {_MAX_BYTES} bytes", f"{len(raw)} bytes")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise TranslationError("/", "XML without DTD or entity declarations", type(error).__name__) from error
    except ParseError as error:
        raise TranslationError("/", "well-formed XML", str(error)) from error
    except (ValueError, RecursionError) as error:  # e.g. an undecodable declared encoding
        raise TranslationError("/", "well-formed XML", str(error)) from error
    _check_depth(root)
    return XmlNode(root, f"/{local_name(root.tag)}")


def _check_depth(root: Element) -> None:
    # Iterative: a hostile document must not be able to exhaust the Python stack here either.
    stack: list[tuple[Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise TranslationError("/", f"XML nested at most {_MAX_DEPTH} levels", f"depth {depth}")
        stack.extend((child, depth + 1) for child in element)


class XmlNode:
    """An element (or a missing one) and the path that leads to it."""

    __slots__ = ("element", "path")

    def __init__(self, element: Element | None, path: str) -> None:
        self.element = element
        self.path = path

    def __repr__(self) -> str:
        return f"XmlNode({self.path})"

    @property
    def is_absent(self) -> bool:
        return self.element is None

    @property
    def is_present(self) -> bool:
        return self.element is not None

    @property
    def name(self) -> str:
        return "" if self.element is None else local_name(self.element.tag)

    # -- navigation -------------------------------------------------------------------------

    def children(self, name: str | None = None) -> Iterator[XmlNode]:
        """Child elements (by local name when given), each with its 1-based index in the path."""
        if self.element is None:
            return
        counts: dict[str, int] = {}
        for child in self.element:
            tag: object = child.tag  # typed str, but a comment/PI node's tag is a function
            if not isinstance(tag, str):
                continue
            child_name = local_name(tag)
            counts[child_name] = counts.get(child_name, 0) + 1
            if name is None or child_name == name:
                yield XmlNode(child, f"{self.path}/{child_name}[{counts[child_name]}]")

    def child(self, name: str) -> XmlNode:
        """The first child with this local name, or an absent node carrying the would-be path."""
        for node in self.children(name):
            return XmlNode(node.element, node.path.removesuffix("[1]"))
        return XmlNode(None, f"{self.path}/{name}")

    def find(self, *names: str) -> XmlNode:
        """``node.find("Body", "getResponse", "record")``: first match at each step."""
        node = self
        for name in names:
            node = node.child(name)
        return node

    def require(self) -> XmlNode:
        if self.element is None:
            raise TranslationError(self.path, "element", MISSING)
        return self

    def attr(self, name: str) -> str | None:
        """An attribute by local name (``internalId``, ``xsi:type``), or None."""
        if self.element is None:
            return None
        for key, value in self.element.attrib.items():
            if local_name(key) == name:
                return value
        return None

    def required_attr(self, name: str) -> str:
        value = self.attr(name)
        if value is None or not value.strip():
            raise TranslationError(f"{self.path}/@{name}", "attribute", MISSING)
        return value.strip()

    # -- typed values -----------------------------------------------------------------------

    def text(self) -> str:
        """Required, non-blank element text, stripped."""
        value = self.opt_text()
        if value is None:
            found = MISSING if self.element is None else (self.element.text or "")
            raise TranslationError(self.path, "text", found)
        return value

    def opt_text(self) -> str | None:
        if self.element is None or self.element.text is None:
            return None
        value = self.element.text.strip()
        return value or None

    def decimal(self) -> Decimal:
        """A plain decimal (NetSuite ``15993.6``, ``-1.0``) or SAP's trailing minus (``100.00-``)."""
        raw = self.text()
        match = _SAP_NUMBER.match(raw)
        if match is None:
            raise TranslationError(self.path, "decimal", raw)
        try:
            value = Decimal(match["body"])
        except InvalidOperation as error:  # pragma: no cover - the pattern admits only digits
            raise TranslationError(self.path, "decimal", raw) from error
        if match["minus"]:
            if match["body"].startswith(("-", "+")):
                raise TranslationError(self.path, "one sign", raw)
            value = -value
        return value

    def opt_decimal(self) -> Decimal | None:
        return None if self.opt_text() is None else self.decimal()

    def integer(self) -> int:
        """A whole number; ``"1.0"`` is accepted (NetSuite writes quantities as doubles)."""
        value = self.decimal()
        if value != value.to_integral_value():
            raise TranslationError(self.path, "whole number", self.text())
        return int(value)

    def opt_integer(self) -> int | None:
        return None if self.opt_text() is None else self.integer()

    def boolean(self) -> bool:
        raw = self.text().lower()
        if raw not in ("true", "false"):
            raise TranslationError(self.path, "true or false", raw)
        return raw == "true"

    def opt_boolean(self, default: bool) -> bool:
        return default if self.opt_text() is None else self.boolean()

    def timestamp(self) -> datetime:
        """An xsd:dateTime with an offset (NetSuite ``2011-12-15T11:56:19.000-08:00``) as UTC."""
        raw = self.text()
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError as error:
            raise TranslationError(self.path, "xsd:dateTime", raw) from error
        if parsed.tzinfo is None:
            raise TranslationError(self.path, "xsd:dateTime with a UTC offset", raw)
        return parsed.astimezone(UTC)

    def opt_timestamp(self) -> datetime | None:
        return None if self.opt_text() is None else self.timestamp()

    def sap_date(self) -> date | None:
        """SAP ``YYYYMMDD``; ``00000000`` (SAP's empty date) is None."""
        raw = self.text()
        if raw == "00000000":
            return None
        if len(raw) != 8 or not raw.isdigit():
            raise TranslationError(self.path, "date YYYYMMDD", raw)
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError as error:
            raise TranslationError(self.path, "date YYYYMMDD", raw) from error

    def sap_time(self) -> time:
        """SAP ``HHMMSS``; a missing time is midnight."""
        raw = self.opt_text()
        if raw is None:
            return time()
        if len(raw) != 6 or not raw.isdigit():
            raise TranslationError(self.path, "time HHMMSS", raw)
        try:
            return time(int(raw[:2]), int(raw[2:4]), int(raw[4:]))
        except ValueError as error:
            raise TranslationError(self.path, "time HHMMSS", raw) from error


def sap_instant(day: date, clock: time, zone: tzinfo) -> datetime:
    """SAP dates and times carry no zone: they are the sending system's local time."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
