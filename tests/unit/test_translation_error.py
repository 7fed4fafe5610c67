"""A rejection's message stays short and never crashes on hostile values."""

from __future__ import annotations

import pytest

from services.translator.errors import TranslationError

pytestmark = pytest.mark.unit


def test_a_deeply_nested_value_is_described_not_rendered() -> None:
    value: object = 1
    for _ in range(100_000):
        value = [value]
    error = TranslationError("$.displayName", "string", value)
    assert error.found == "a list nested too deeply to show"
    assert str(error) == "$.displayName: expected string, found a list nested too deeply to show"


def test_long_values_are_cut() -> None:
    error = TranslationError("$.note", "short text", "x" * 500)
    assert len(error.found) == 80
    assert error.found.endswith("...")
