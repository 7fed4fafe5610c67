"""Hypothesis mutations of conformance payloads (JSON, XML, X12) and the translator invariant:
an adapter returns valid canonical models or raises TranslationError with a reason — nothing else."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from schemas.base import AvroRecord
from services.translator.errors import TranslationError

__all__ = ["assert_translates_or_rejects", "bytes_mutation", "json_mutation", "x12_mutation", "xml_mutation"]

_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from(["", " ", "abc", "1e999999", "NaN", "-0", "12.3456789", "0001-01-01", "usd", "ZZZZ"]),
    st.text(max_size=12),
    st.just([]),
    st.just({}),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"x": [value]}
    return value


@st.composite
def json_mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    """Delete a field, retype it, make it huge or deeply nested; or corrupt the bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(bytes_mutation(raw))
    document = json.loads(raw, parse_float=Decimal)
    path = draw(st.sampled_from(_paths(document)))
    action = draw(st.sampled_from(["delete", "retype", "huge", "nest"]))
    if action == "delete" and path:
        document = _set(document, path, None, delete=True)
    elif action == "nest":
        document = _set(document, path, _nest(1, draw(st.integers(1, 3000))), delete=False)
    elif action == "huge":
        document = _set(document, path, draw(st.sampled_from([10**30, -(10**30), "9" * 400])), delete=False)
    else:
        document = _set(document, path, draw(_ODD_VALUES), delete=False)
    try:
        return json.dumps(document, default=str).encode()
    except RecursionError:
        return b"[" * 100_000


@st.composite
def bytes_mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    """Invalid UTF-8, truncation or random bytes at a random place."""
    at = draw(st.integers(0, len(raw)))
    action = draw(st.sampled_from(["bad-utf8", "truncate", "insert", "empty"]))
    if action == "bad-utf8":
        return (
            raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"])) + raw[at:]
        )
    if action == "truncate":
        return raw[:at]
    if action == "empty":
        return b""
    return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]


_ELEMENT = re.compile(rb">([^<>]*)<")


@st.composite
def xml_mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    """Change an element's text, drop or duplicate an element, nest deeply, add a DTD, corrupt bytes."""
    action = draw(st.sampled_from(["text", "drop", "duplicate", "nest", "dtd", "bytes"]))
    texts = [m for m in _ELEMENT.finditer(raw) if m.group(1).strip()]
    if action == "text" and texts:
        match = draw(st.sampled_from(texts))
        value = draw(st.one_of(_ODD_VALUES.map(str), st.just("100.00-"), st.just("-1-"))).encode(
            "utf-8", "replace"
        )
        value = value.replace(b"<", b"").replace(b"&", b"")
        return raw[: match.start(1)] + value + raw[match.end(1) :]
    if action in ("drop", "duplicate") and texts:
        match = draw(st.sampled_from(texts))
        start = raw.rfind(b"<", 0, match.start(1))
        end = raw.find(b">", match.end(1)) + 1
        element = raw[start:end]
        return raw[:start] + (element * 2 if action == "duplicate" else b"") + raw[end:]
    if action == "nest":
        depth = draw(st.integers(10, 5000))
        close = raw.rfind(b"</")
        return raw[:close] + b"<a>" * depth + b"</a>" * depth + raw[close:]
    if action == "dtd":
        bomb = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        return bomb + raw.split(b"?>", 1)[-1].replace(b"<", b"&lol2;<", 1)
    return draw(bytes_mutation(raw))


@st.composite
def x12_mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    """Drop, duplicate or rewrite a segment or an element; change a delimiter; corrupt bytes."""
    segments = raw.split(b"~")
    index = draw(st.integers(0, len(segments) - 1))
    action = draw(st.sampled_from(["drop", "duplicate", "element", "delimiter", "bytes", "huge"]))
    if action == "drop":
        del segments[index]
    elif action == "duplicate":
        segments.insert(index, segments[index])
    elif action in ("element", "huge"):
        elements = segments[index].split(b"*")
        position = draw(st.integers(0, len(elements) - 1))
        value = b"9" * 60 if action == "huge" else draw(_ODD_VALUES.map(str)).encode("utf-8", "replace")
        elements[position] = value
        segments[index] = b"*".join(elements)
    elif action == "delimiter":
        return raw.replace(b"*", draw(st.sampled_from([b"|", b"~", b"\n", b""])), draw(st.integers(1, 20)))
    else:
        return draw(bytes_mutation(raw))
    return b"~".join(segments)


def assert_translates_or_rejects(translate: Callable[[bytes], Sequence[AvroRecord]], raw: bytes) -> None:
    rejection: TranslationError | None = None
    events: Sequence[AvroRecord] = []
    try:
        events = translate(raw)
    except TranslationError as error:
        rejection = error
    if rejection is not None:
        assert rejection.path
        assert rejection.expected
        return
    for event in events:
        assert isinstance(event, AvroRecord)
        assert type(event).model_validate(event.model_dump()) == event
