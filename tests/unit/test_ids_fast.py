"""The translator's fast ids and metadata (issue #5) against what they shortcut: ``canonical`` is
``schemas.ids.canonical_id`` (same UUID, same rejection of an empty part), the event id's
``uuid5`` / identity JSON are ``uuid.uuid5`` / ``json.dumps``, for any text, not only plain ids,
and ``event_metadata`` is the validated ``EventMetadata`` (or the same rejection)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.common.models import EventMetadata, SourceRef
from schemas.ids import CANONICAL_NAMESPACE, EmptyIdPartError, canonical_id, json_list, uuid5
from services.translator.adapters._common import canonical
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata

pytestmark = pytest.mark.unit

# Plain ids and shop domains (the fast path) mixed with what takes the slow one: quotes,
# backslashes, control characters, DEL, non-ASCII, lone surrogates, surrounding blanks, case.
_PART = st.one_of(
    st.from_regex(r"[A-Za-z0-9 ./:_-]{0,12}", fullmatch=True),
    st.sampled_from(['"', "\\", "\x00", "\x7f", "\t", " x ", "é", "\u2003a", "ß", "\ud800", "İ", "SHOPIFY"]),
    st.text(max_size=6),
)


def _outcome(make: Callable[[], Any]) -> Any:
    try:
        return make()
    except Exception as error:  # the rejection itself is compared
        return type(error), str(error)


def _same_uuid(mine: uuid.UUID, theirs: uuid.UUID) -> None:
    assert mine == theirs
    assert (str(mine), repr(mine), hash(mine), mine.is_safe) == (
        str(theirs),
        repr(theirs),
        hash(theirs),
        theirs.is_safe,
    )


def _reference_canonical_id(system: str, account: str, entity: str, native_id: str) -> uuid.UUID:
    """``canonical_id`` as it was defined: ``uuid.uuid5`` of the parts' JSON, non-ASCII kept."""
    parts = [system.strip().lower(), account.strip(), entity.strip().lower(), str(native_id).strip()]
    if not all(parts):
        raise EmptyIdPartError(f"every part of a canonical id must be non-empty: {parts}")
    return uuid.uuid5(CANONICAL_NAMESPACE, json.dumps(parts, ensure_ascii=False, separators=(",", ":")))


@settings(max_examples=400, deadline=None)
@given(system=_PART, account=_PART, entity=_PART, native_id=_PART)
def test_canonical_id_is_its_definition(system: str, account: str, entity: str, native_id: str) -> None:
    record = IngressRecord(
        raw=b"{}",
        system=system,
        entity="orders",
        account=account,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    theirs = _outcome(lambda: _reference_canonical_id(system, account, entity, native_id))
    for mine in (
        _outcome(lambda: canonical_id(system, account, entity, native_id)),
        _outcome(lambda: canonical(record, entity, native_id)),
    ):
        if isinstance(theirs, uuid.UUID):  # else an empty part, or a lone surrogate JSON cannot encode
            assert isinstance(mine, uuid.UUID)
            _same_uuid(mine, theirs)
        else:
            assert mine == theirs


def test_an_empty_part_is_rejected_as_canonical_id_rejects_it() -> None:
    record = IngressRecord(
        raw=b"{}",
        system="shopify",
        entity="orders",
        account="acme",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(EmptyIdPartError):
        canonical(record, "order", "  ")


@settings(max_examples=200, deadline=None)
@given(namespace=st.uuids(), name=_PART)
def test_uuid5_in_any_namespace_is_uuid_uuid5(namespace: uuid.UUID, name: str) -> None:
    theirs = _outcome(lambda: uuid.uuid5(namespace, name))
    mine = _outcome(lambda: uuid5(name, namespace.bytes))
    if isinstance(theirs, uuid.UUID):
        assert isinstance(mine, uuid.UUID)
        _same_uuid(mine, theirs)
    else:  # a lone surrogate cannot be UTF-8 encoded
        assert mine == theirs


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_PART, min_size=0, max_size=7))
def test_event_id_text_and_uuid_are_json_and_uuid5s(parts: list[str]) -> None:
    text = json_list(parts)
    assert text == json.dumps(parts, separators=(",", ":"))
    _same_uuid(uuid5(text), uuid.uuid5(CANONICAL_NAMESPACE, text))


def _reference_metadata(record: IngressRecord, **kwargs: Any) -> EventMetadata:
    """``event_metadata`` as it was: the two models validated from the same values."""
    delivery = record.provider_event_id or hashlib.sha256(record.raw).hexdigest()[:32]
    identity = [record.system, record.account, kwargs["entity"], kwargs["native_id"], kwargs["event_type"]]
    event_id = uuid.uuid5(CANONICAL_NAMESPACE, json.dumps([*identity, delivery, ""], separators=(",", ":")))
    source = SourceRef(
        system=record.system,
        account=record.account,
        entity=kwargs["entity"],
        native_id=kwargs["native_id"],
        api_version=record.api_version,
    )
    return EventMetadata(
        event_id=event_id,
        event_type=kwargs["event_type"],
        occurred_at=kwargs["occurred_at"],
        ingested_at=record.received_at,
        source=source,
        provider_event_id=record.provider_event_id,
        correlation_id=str(event_id),
        causation_id=None,
    )


_INSTANT = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.none()
    | st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))]),
)
_TEXT_OR_NOT = _PART | st.none() | st.integers(0, 9)


@settings(max_examples=300, deadline=None)
@given(
    system=_PART,
    account=_TEXT_OR_NOT,
    api_version=_TEXT_OR_NOT,
    provider_event_id=_TEXT_OR_NOT,
    event_type=_TEXT_OR_NOT,
    occurred_at=_INSTANT,
    received_at=_INSTANT,
)
def test_event_metadata_is_the_validated_one(
    system: str,
    account: Any,
    api_version: Any,
    provider_event_id: Any,
    event_type: Any,
    occurred_at: datetime,
    received_at: datetime,
) -> None:
    record = IngressRecord(
        raw=b"{}",
        system=system,
        entity="orders",
        account=account,
        received_at=received_at,
        provider_event_id=provider_event_id,
        api_version=api_version,
    )
    kwargs: dict[str, Any] = {
        "event_type": event_type,
        "entity": "order",
        "native_id": "42",
        "occurred_at": occurred_at,
    }
    theirs = _outcome(lambda: _reference_metadata(record, **kwargs))
    mine = _outcome(lambda: event_metadata(record, **kwargs))
    if isinstance(theirs, tuple):
        assert isinstance(mine, tuple)
        assert mine[0] is theirs[0]
        return
    assert isinstance(mine, EventMetadata)
    assert mine == theirs
    assert repr(mine) == repr(theirs)
    assert mine.model_fields_set == theirs.model_fields_set
    assert mine.source.model_fields_set == theirs.source.model_fields_set
