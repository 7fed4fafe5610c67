"""Compiled fast paths: ingress record -> the Avro bodies of its canonical events, or a decline.

A fast path stands for one adapter. It returns each event's key and body (``bus.serde.AvroBody``,
to which the codec adds only the wire header), exactly what the adapter's events encode to, or
``None`` for any record it does not reproduce; the adapter translates those (and rejects what it
rejects). Adapter packages list theirs in ``FAST_ROUTES``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from bus.avro_fast import Encoder, compile_encoder
from bus.serde import AvroBody
from schemas.base import AvroRecord
from schemas.loader import parsed_schema
from services.translator.ingress import IngressRecord

__all__ = ["FastTranslate", "reference_body"]

FastTranslate = Callable[[IngressRecord], list[tuple[str, AvroBody]] | None]


@cache
def _encoder(model: type[AvroRecord]) -> Encoder:
    schema = parsed_schema(model.avro_name())
    return compile_encoder(schema, schema.get("__named_schemas", {}))


def reference_body(event: AvroRecord) -> bytes | None:
    """The Avro body the runtime's codec writes for ``event`` (its compiled encoder), or ``None``
    for a value only fastavro writes (then a fast path cannot have matched it)."""
    body = bytearray()
    try:
        _encoder(type(event))(event, body)
    except Exception:  # what the compiled encoder leaves to fastavro
        return None
    return bytes(body)
