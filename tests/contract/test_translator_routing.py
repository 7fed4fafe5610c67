"""The translator's routing agrees with the topic catalog, and `esb translate` shows what it publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esb.cli import app
from esb.governance.catalog import load_catalog
from services.translator.registry import all_routes
from services.translator.routing import output_topics

pytestmark = pytest.mark.contract

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def test_every_destination_is_a_catalog_topic_carrying_that_record() -> None:
    topics = {topic.name: topic for topic in load_catalog().topics}
    for model, topic in output_topics():
        assert topic in topics, topic
        assert topics[topic].value.avro == model.avro_name()
        assert "translator" not in (topics[topic].consumers or [])


def test_every_adapter_route_has_an_ingress_topic_in_the_catalog() -> None:
    names = {topic.name for topic in load_catalog().topics}
    missing = sorted(f"ingress.{system}.{entity}" for system, entity in all_routes())
    missing = [name for name in missing if name not in names]
    assert missing == []


def test_translate_cli_prints_schema_valid_events() -> None:
    result = CliRunner().invoke(
        app, ["translate", "shopify.orders", str(CONFORMANCE / "shopify" / "api_2024-04_order_get_full.json")]
    )
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout[: result.stdout.index("\n}\n") + 2])
    assert first["topic"] == "canonical.orders.v1"
    assert first["value"]["order"]["display_number"] == "#1001"
    assert "valid against their Avro schemas" in result.stderr


def test_translate_cli_names_the_field_of_a_rejection(tmp_path: Path) -> None:
    payload = tmp_path / "order.json"
    payload.write_text('{"id": 1}')
    result = CliRunner().invoke(app, ["translate", "shopify.orders", str(payload)])
    assert result.exit_code == 1
    assert "$.currency: expected string, found missing" in result.stderr
