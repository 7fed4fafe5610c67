"""structlog JSON logs; per-record context (topic, partition, offset, event id, trace id) via contextvars."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from bus.observability.redaction import Redactor

__all__ = ["configure_logging", "get_logger", "writes"]

_LEVELS = logging.getLevelNamesMapping()
_threshold = logging.NOTSET  # what configure_logging set; NOTSET (all) until then, as structlog's default


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Called once from the composition root."""
    global _threshold
    _threshold = _LEVELS[level.upper()]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # Last before rendering: nothing a processor above added escapes the redaction.
            Redactor(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_threshold),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger("bus").bind(**bound)


def writes(method: str) -> bool:
    """Whether a logger method (``info``, ``warning``...) writes at the configured level; other
    attributes (``bind``...) count as writing."""
    level = _LEVELS.get("WARNING" if method == "warn" else method.upper())
    return level is None or level >= _threshold
