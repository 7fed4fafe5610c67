"""An open-loop schedule: event *i* is due at ``start + i / rate``, whatever happened to earlier ones."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

__all__ = ["Schedule", "parse_rate"]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|m|min))?\s*$")


def parse_rate(text: str) -> float:
    """``200/s``, ``200``, ``600/m`` -> events per second."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"rate {text!r}: expected e.g. 200/s or 600/m")
    per = match.group(2) or "s"
    return float(match.group(1)) / (60.0 if per in ("m", "min") else 1.0)


@dataclass(slots=True)
class Schedule:
    rate: float
    start: float = 0.0

    def begin(self) -> None:
        self.start = time.monotonic()

    def due(self, index: int) -> float:
        return self.start + index / self.rate

    def delay(self, index: int) -> float:
        """Seconds to wait before sending event ``index`` (0 when already due)."""
        return max(0.0, self.due(index) - time.monotonic())
