"""JSON documents whose numbers are exact: ``Decimal`` is written as a JSON number, never via float.

Vendors (NetSuite, Business Central) expect amounts as JSON numbers; ``json.dumps`` can only write
them through ``float``. This writer handles the JSON data model plus ``Decimal`` and emits keys in
insertion order (the translators build documents in the vendor's field order), compact, UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["JsonValue", "dumps", "loads"]

JsonValue = Any


def dumps(value: JsonValue, indent: int | None = None) -> bytes:
    """Encode ``value`` (dict/list/str/int/bool/None/Decimal) as UTF-8 JSON, compact unless ``indent``."""
    parts: list[str] = []
    _write(value, parts, indent, 0)
    return "".join(parts).encode("utf-8")


def loads(data: bytes | str) -> JsonValue:
    """Decode JSON with every non-integer number as ``Decimal`` (the inverse of :func:`dumps`)."""
    return json.loads(data, parse_float=Decimal)


def _newline(out: list[str], indent: int | None, depth: int) -> None:
    if indent is not None:
        out.append("\n" + " " * (indent * depth))


def _write(value: JsonValue, out: list[str], indent: int | None, depth: int) -> None:
    if value is None or isinstance(value, bool):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, float):
        raise TypeError("floats are not written: money and quantities are Decimal or int")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, got {type(key).__name__}")
            if index:
                out.append(",")
            _newline(out, indent, depth + 1)
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(": " if indent is not None else ":")
            _write(item, out, indent, depth + 1)
        if value:
            _newline(out, indent, depth)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _newline(out, indent, depth + 1)
            _write(item, out, indent, depth + 1)
        if value:
            _newline(out, indent, depth)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
