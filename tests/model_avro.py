"""What Avro schema a canonical pydantic model implies: the oracle of the model/.avsc drift test.

Follows the conventions stated in ``schemas/base.py``. Named types are inlined at their first use and
referenced by full name afterwards, exactly as ``schemas.loader`` expands the ``.avsc`` files.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from schemas.base import PII_TAG, AvroDecimal, avro_fullname

__all__ = ["derive_schema", "enum_default", "field_avro_type", "is_pii", "unwrap_optional"]


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) != 1:
            raise TypeError(f"only X | None unions are supported, got {annotation}")
        return args[0], True
    return annotation, False


def enum_default(enum: type[Enum]) -> str | None:
    return "UNKNOWN" if "UNKNOWN" in enum.__members__ else None


def is_pii(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("pii") is True


def _decimal_marker(metadata: list[Any]) -> AvroDecimal:
    markers = [m for m in metadata if isinstance(m, AvroDecimal)]
    if len(markers) != 1:
        raise TypeError("a Decimal field needs exactly one AvroDecimal marker (use Amount or Rate)")
    return markers[0]


def field_avro_type(annotation: Any, metadata: list[Any], seen: set[str]) -> Any:
    """The Avro type of a (non-optional) annotation; records and enums inline once, then by name."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return field_avro_type(base, [*metadata, *extra], seen)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": field_avro_type(item, [], seen)}
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str:
            raise TypeError("Avro map keys are strings")
        return {"type": "map", "values": field_avro_type(value, [], seen)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return derive_schema(annotation, seen)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        name = avro_fullname(annotation)
        if name in seen:
            return name
        seen.add(name)
        schema: dict[str, Any] = {"type": "enum", "name": name, "symbols": [m.value for m in annotation]}
        if (default := enum_default(annotation)) is not None:
            schema["default"] = default
        return schema
    primitive = _PRIMITIVES.get(annotation)
    if primitive is not None:
        return primitive
    if annotation is Decimal:
        marker = _decimal_marker(metadata)
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": marker.precision,
            "scale": marker.scale,
        }
    raise TypeError(f"no Avro mapping for {annotation!r}")


_PRIMITIVES: dict[Any, Any] = {
    str: "string",
    int: "long",
    bool: "boolean",
    UUID: {"type": "string", "logicalType": "uuid"},
    # datetime before date: a datetime is a date.
    datetime: {"type": "long", "logicalType": "timestamp-millis"},
    AwareDatetime: {"type": "long", "logicalType": "timestamp-millis"},
    date: {"type": "int", "logicalType": "date"},
}


def _default(info: FieldInfo) -> Any:
    value = info.get_default(call_default_factory=True)
    if isinstance(value, Enum):
        return value.value
    return value


def derive_schema(model: type[BaseModel], seen: set[str] | None = None) -> Any:
    """The expanded Avro schema (no docs) that ``model`` implies."""
    seen = set() if seen is None else seen
    name = avro_fullname(model)
    if name in seen:
        return name
    seen.add(name)
    fields: list[dict[str, Any]] = []
    for field_name, info in model.model_fields.items():
        inner, optional = unwrap_optional(info.annotation)
        avro_type = field_avro_type(inner, list(info.metadata), seen)
        field: dict[str, Any] = {"name": field_name, "type": ["null", avro_type] if optional else avro_type}
        if not info.is_required():
            field["default"] = _default(info)
        if is_pii(info):
            field["confluent:tags"] = [PII_TAG]
        fields.append(field)
    return {"type": "record", "name": name, "fields": fields}
