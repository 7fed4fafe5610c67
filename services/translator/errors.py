"""A rejection that names the field and the reason, so an integration engineer can fix the source."""

from __future__ import annotations

from bus.errors import DeadLetterError

__all__ = ["TranslationError"]


class TranslationError(DeadLetterError):
    """The payload cannot be mapped: dead-lettered with the path, what was expected and what was found."""

    def __init__(self, path: str, expected: str, found: object, reason: str | None = None) -> None:
        self.path = path
        self.expected = expected
        self.found = _preview(found)
        self.reason = reason
        detail = f"{path}: expected {expected}, found {self.found}"
        super().__init__(f"{detail} ({reason})" if reason else detail)


def _preview(value: object, limit: int = 80) -> str:
    """A short, single-line rendering of the offending value (never the whole payload)."""
    try:
        text = "missing" if value is _MISSING else repr(value)
    except RecursionError:  # a hostile, deeply nested payload: say so instead of crashing
        text = f"a {type(value).__name__} nested too deeply to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Missing:
    def __repr__(self) -> str:
        return "missing"


_MISSING = _Missing()
MISSING = _MISSING
