"""The pydantic models and the ``.avsc`` files describe the same records, field for field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema

from schemas.base import AvroRecord, avro_fullname
from schemas.events import EVENTS
from schemas.loader import SCHEMA_ROOT, avsc_files, load_avsc
from tests.model_avro import derive_schema

pytestmark = pytest.mark.contract


def _comparable(schema: Any) -> Any:
    """Parsed (full names resolved) and without docs, which the models do not have to repeat."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "doc" and not k.startswith("__")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(parse_schema(schema, _write_hint=False))


def _drift(model: type[AvroRecord], root: Path = SCHEMA_ROOT) -> tuple[Any, Any]:
    return _comparable(load_avsc(model.avro_name(), root)), _comparable(derive_schema(model))


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_model_matches_its_avsc(model: type[AvroRecord]) -> None:
    from_files, from_model = _drift(model)
    assert from_files == from_model


def _named_types(schema: Any, found: set[str]) -> set[str]:
    if isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            found.add(schema["name"])
        for value in schema.values():
            _named_types(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _named_types(value, found)
    return found


def test_every_schema_file_belongs_to_an_event() -> None:
    used: set[str] = set()
    for model in EVENTS:
        _named_types(load_avsc(model.avro_name()), used)
    files = {f"com.esb.canonical.{p.parent.name}.{p.stem}" for p in avsc_files()}
    assert files == used


def test_every_model_declares_its_avro_name_by_convention() -> None:
    for model in EVENTS:
        namespace = json.loads(
            (SCHEMA_ROOT / model.__module__.split(".")[1] / f"{model.__name__}.avsc").read_text()
        )
        assert f"{namespace['namespace']}.{namespace['name']}" == avro_fullname(model)


@pytest.mark.parametrize(
    ("record_file", "field", "change"),
    [
        ("orders/OrderLine.avsc", "quantity", {"type": "string"}),
        ("common/Money.avsc", "currency", {"type": ["null", "string"], "default": None}),
        (
            "orders/Order.avsc",
            "tags",
            {"default": None, "type": ["null", {"type": "array", "items": "string"}]},
        ),
    ],
)
def test_drift_is_detected(tmp_path: Path, record_file: str, field: str, change: dict[str, Any]) -> None:
    """The comparison above is not vacuous: editing only the .avsc makes it fail."""
    root = tmp_path / "schemas"
    shutil.copytree(SCHEMA_ROOT, root, ignore=shutil.ignore_patterns("released", "*.py", "__pycache__"))
    path = root / record_file
    schema = json.loads(path.read_text())
    for entry in schema["fields"]:
        if entry["name"] == field:
            entry.update(change)
    path.write_text(json.dumps(schema))
    from_model = _comparable(derive_schema(_event_using(record_file)))
    assert _comparable(load_avsc(_event_using(record_file).avro_name(), root)) != from_model


def _event_using(record_file: str) -> type[AvroRecord]:
    name = f"com.esb.canonical.{record_file.replace('/', '.').removesuffix('.avsc')}"
    return next(m for m in EVENTS if name in _named_types(load_avsc(m.avro_name()), set()))
