"""Typed, path-tracking access to a JSON payload: every failure names the JSON path.

Hand-written because the point is the error: ``$.line_items[2].price: expected decimal string,
found 'abc'`` — general-purpose libraries (jsonpath, glom) locate values but do not type them with
each source's money and time rules. Numbers are parsed exactly (floats as ``Decimal``), so a JSON
float never becomes a binary float. msgspec parses (about 4x faster than ``json``); what it refuses
is parsed again by ``json``, whose rules (lone surrogate escapes, ``NaN``, huge integers) and error
messages (line and column) the translator has always had.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from services.translator.errors import MISSING, TranslationError

__all__ = ["JsonNode", "load_json", "parse_json"]

_MAX_BYTES = 5 * 1024 * 1024
# ASCII only: Decimal() and int() would also take "1_000", "١٢" or "²", which no source sends.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?")
_INTEGER = re.compile(r"-?[0-9]{1,30}")
_MAX_INT_DIGITS = 30
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def parse_json(raw: bytes, path: str = "$") -> JsonNode:
    """Parse UTF-8 JSON bytes; malformed input, bad UTF-8 or absurd nesting is a TranslationError."""
    return JsonNode(load_json(raw, path), path)


def load_json(raw: bytes, path: str = "$", typed: msgspec.json.Decoder[Any] | None = None) -> Any:
    """The plain value (dicts, lists, str, int, Decimal, bool, None) that :func:`parse_json` wraps.

    ``typed``: a decoder of the same ``float_hook`` whose type leaves out what the caller never reads
    (``TypedDict``s of ``Any`` fields: msgspec skips undeclared keys); what it refuses, a type
    mismatch included, is decoded plainly, so the caller's own rules decide."""
    if len(raw) > _MAX_BYTES:
        raise TranslationError(path, f"at most {_MAX_BYTES} bytes", f"{len(raw)} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TranslationError(path, "UTF-8 text", f"invalid byte at {error.start}") from error
    if typed is not None:
        try:
            return typed.decode(text)
        except (msgspec.DecodeError, RecursionError):
            pass
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        pass  # json decides, with its own rules and a line and column for the message
    except RecursionError as error:
        raise TranslationError(path, "JSON nested less deeply", "too deep a nesting") from error
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise TranslationError(
            path, "JSON", f"{error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise TranslationError(path, "JSON nested less deeply", "too deep a nesting") from error
    except ValueError as error:  # e.g. an integer literal beyond int()'s digit limit
        raise TranslationError(path, "JSON", str(error)) from error


class JsonNode:
    """A value inside a JSON document and the path that leads to it."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str = "$") -> None:
        self.value = value
        self.path = path

    def __repr__(self) -> str:
        return f"JsonNode({self.path})"

    # -- navigation -------------------------------------------------------------------------

    def __getitem__(self, key: str | int) -> JsonNode:
        """Child by object key or array index; a missing child is a node whose value is MISSING."""
        if isinstance(key, int):
            items = self._require(list, "array")
            child = items[key] if -len(items) <= key < len(items) else MISSING
            return JsonNode(child, f"{self.path}[{key}]")
        mapping = self._require(dict, "object")
        return JsonNode(mapping.get(key, MISSING), f"{self.path}.{key}")

    def path_get(self, *keys: str | int) -> JsonNode:
        """``node.path_get("a", 0, "b")``; stops at the first absent or null step."""
        node = self
        for key in keys:
            if node.is_absent:
                return JsonNode(MISSING, f"{node.path}.{key}")
            node = node[key]
        return node

    def items(self) -> Iterator[JsonNode]:
        """Children of an array; an absent or null array yields nothing."""
        if self.is_absent:
            return
        for index, item in enumerate(self._require(list, "array")):
            yield JsonNode(item, f"{self.path}[{index}]")

    def keys(self) -> list[str]:
        return [] if self.is_absent else list(self._require(dict, "object"))

    @property
    def is_absent(self) -> bool:
        """Missing or JSON null."""
        return self.value is MISSING or self.value is None

    @property
    def is_present(self) -> bool:
        return not self.is_absent

    # -- typed values -----------------------------------------------------------------------

    def text(self) -> str:
        """A required string; JSON integers are accepted for ids (kept exact as strings)."""
        if isinstance(self.value, str):
            if not self.value.isascii():
                try:
                    self.value.encode("utf-8")
                except UnicodeEncodeError as error:  # an unpaired surrogate escape in the JSON
                    raise TranslationError(self.path, "Unicode text", self.value, "lone surrogate") from error
            return self.value
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return str(self.value)
        raise TranslationError(self.path, "string", self.value)

    def opt_text(self) -> str | None:
        """A string, or None when absent or blank."""
        if self.is_absent:
            return None
        value = self.text()
        return value if value.strip() else None

    def decimal(self) -> Decimal:
        """A decimal from a JSON string or number, exactly (no float on the way)."""
        value = self.value
        if isinstance(value, bool):
            raise TranslationError(self.path, "decimal", value)
        if isinstance(value, Decimal | int):
            result = Decimal(value)
        elif isinstance(value, str):
            if not _DECIMAL.fullmatch(value.strip()):
                raise TranslationError(self.path, "decimal string", value)
            try:
                result = Decimal(value.strip())
            except InvalidOperation as error:
                raise TranslationError(self.path, "decimal string", value) from error
        else:
            raise TranslationError(self.path, "decimal", value)
        if not result.is_finite():
            raise TranslationError(self.path, "finite decimal", value)
        return result

    def opt_decimal(self) -> Decimal | None:
        if self.is_absent or (isinstance(self.value, str) and not self.value.strip()):
            return None
        return self.decimal()

    def integer(self) -> int:
        """An integer from a JSON number or a string of digits."""
        value = self.value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if (
            isinstance(value, Decimal)
            and value.is_finite()
            and value.adjusted() < _MAX_INT_DIGITS  # int(Decimal("1E+999999999")) would not end
            and value == value.to_integral_value()
        ):
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value.strip())
        raise TranslationError(self.path, "integer", value)

    def opt_integer(self) -> int | None:
        return None if self.is_absent else self.integer()

    def boolean(self) -> bool:
        """A JSON boolean, or the strings "true"/"false" some sources send (Adyen, Amazon)."""
        value = self.value
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise TranslationError(self.path, "boolean", value)

    def opt_boolean(self, default: bool | None = None) -> bool | None:
        return default if self.is_absent else self.boolean()

    def timestamp(self, *, naive_is_utc: bool = False) -> datetime:
        """An ISO-8601 instant. Without an offset it is rejected unless ``naive_is_utc`` says the
        source documents UTC (WooCommerce ``*_gmt``, Magento ``created_at``)."""
        value = self.text()
        try:
            parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError as error:
            raise TranslationError(self.path, "ISO-8601 timestamp", value) from error
        if parsed.tzinfo is None:
            if not naive_is_utc:
                raise TranslationError(self.path, "timestamp with a UTC offset", value)
            parsed = parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:  # "0001-01-01T00:00:00+05:00" falls before year 1 in UTC
            raise TranslationError(self.path, "timestamp within years 1-9999 UTC", value) from error

    def opt_timestamp(self, *, naive_is_utc: bool = False) -> datetime | None:
        if self.is_absent or (isinstance(self.value, str) and not self.value.strip()):
            return None
        return self.timestamp(naive_is_utc=naive_is_utc)

    def unix_seconds(self) -> datetime:
        """Unix epoch seconds (Stripe ``created``) as a UTC instant."""
        seconds = self.integer()
        if not 0 <= seconds < 32503680000:  # year 3000
            raise TranslationError(self.path, "unix seconds", seconds)
        return datetime.fromtimestamp(seconds, tz=UTC)

    def _require(self, kind: type, name: str) -> Any:
        if not isinstance(self.value, kind):
            raise TranslationError(self.path, name, self.value)
        return self.value
