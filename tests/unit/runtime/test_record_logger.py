"""``ctx.log`` writes the record's context, and binds it only for messages the level writes."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

import bus.observability.logging as bus_logging
import bus.processor as processor
from bus.processor import Record, _Context

pytestmark = pytest.mark.unit


def _context() -> _Context:
    record = Record(topic="in", partition=3, offset=41, key=b"k", value=b"v")
    return _Context("svc", frozenset(), lambda store, partition: None, record, "event-1")  # type: ignore[arg-type, return-value]


def test_a_written_message_carries_the_records_context(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_logging, "_threshold", logging.NOTSET)
    bus_logging.configure_logging("WARNING", True)
    try:
        _context().log.warning("late record", lag_ms=1200)
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        structlog.reset_defaults()
    written = json.loads(line)
    assert written["event"] == "late record"
    assert (written["service"], written["topic"], written["partition"], written["offset"]) == (
        "svc",
        "in",
        3,
        41,
    )
    assert written["event_id"] == "event-1"


def test_a_message_below_the_level_is_dropped_without_binding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_logging, "_threshold", logging.NOTSET)
    bus_logging.configure_logging("WARNING", True)
    bound: list[object] = []
    real = processor.get_logger
    monkeypatch.setattr(processor, "get_logger", lambda **kw: bound.append(kw) or real(**kw))
    try:
        _context().log.info("translated", events=1)
        _context().log.debug("detail")
        assert bound == []
        _context().log.error("failed")
        assert len(bound) == 1
    finally:
        structlog.reset_defaults()
    assert "translated" not in capsys.readouterr().err


def test_level_names_follow_the_configured_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_logging, "_threshold", logging.INFO)
    assert bus_logging.writes("info")
    assert bus_logging.writes("warn")
    assert bus_logging.writes("bind")
    assert not bus_logging.writes("debug")
