"""Every process's logs go through the redactor: no card number or secret reaches stderr."""

from __future__ import annotations

import json

import pytest
import structlog

from bus.observability.logging import configure_logging

pytestmark = pytest.mark.unit


def test_configured_logging_masks_card_numbers_and_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", True)
    try:
        structlog.get_logger("test").info(
            "payment seen", note="card 4111 1111 1111 1111 used", password="hunter2-secret", order="1001"
        )
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        structlog.reset_defaults()
    record = json.loads(line)
    assert record["order"] == "1001"
    assert "4111 1111 1111 1111" not in line
    assert "4111111111111111" not in line
    assert "hunter2-secret" not in line
