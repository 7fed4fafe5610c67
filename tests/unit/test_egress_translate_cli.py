"""`esb translate ... --to <document>`: the egress direction of the translate command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esb.cli import app
from services.egress import jsondoc
from tests import egress_support as samples

pytestmark = pytest.mark.unit


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    event = tmp_path / "order.json"
    # The inbound direction's output shape is accepted as input.
    event.write_text(
        json.dumps(
            {
                "topic": "canonical.orders.v1",
                "key": "k",
                "value": json.loads(samples.order_event().model_dump_json()),
            }
        )
    )
    config = tmp_path / "egress.json"
    config.write_text(json.dumps({"netsuite": json.loads(samples.NETSUITE.model_dump_json())}))
    return event, config


def test_translate_to_netsuite_sales_order(files: tuple[Path, Path]) -> None:
    event, config = files
    result = CliRunner().invoke(
        app,
        [
            "translate",
            "canonical.orders.v1",
            str(event),
            "--to",
            "netsuite.salesOrder",
            "--egress-config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("# PUT /services/rest/record/v1/salesOrder/eid:esb-order-")
    assert jsondoc.loads(lines[-1])["entity"] == {"id": "1842"}


def test_translate_to_an_unconfigured_target_exits_1(files: tuple[Path, Path]) -> None:
    event, config = files
    result = CliRunner().invoke(
        app,
        [
            "translate",
            "canonical.orders.v1",
            str(event),
            "--to",
            "sap.ORDERS05",
            "--egress-config",
            str(config),
        ],
    )
    assert result.exit_code == 1
    assert "no sap.ORDERS05" in result.output
