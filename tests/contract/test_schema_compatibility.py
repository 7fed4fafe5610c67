"""``esb schemas check``: the working schemas pass; breaking changes to any record fail it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esb.cli import app
from esb.governance.catalog import load_catalog
from esb.governance.compatibility import RELEASED_ROOT, Direction, check_catalog, released_versions
from schemas.loader import SCHEMA_ROOT

pytestmark = pytest.mark.contract

Mutation = Callable[[dict[str, Any]], None]


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def _change_type(schema: dict[str, Any]) -> None:
    _field(schema, "quantity")["type"] = "string"


def _remove_required(schema: dict[str, Any]) -> None:
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "title"]


def _add_without_default(schema: dict[str, Any]) -> None:
    schema["fields"].append({"name": "gift_wrap", "type": "boolean"})


def _add_optional(schema: dict[str, Any]) -> None:
    schema["fields"].append({"name": "gift_wrap", "type": ["null", "boolean"], "default": None})


def _mutated_tree(tmp_path: Path, record_file: str, mutate: Mutation) -> Path:
    root = tmp_path / "schemas"
    shutil.copytree(SCHEMA_ROOT, root, ignore=shutil.ignore_patterns("released", "*.py", "__pycache__"))
    path = root / record_file
    schema = json.loads(path.read_text())
    mutate(schema)
    path.write_text(json.dumps(schema))
    return root


def test_working_schemas_are_compatible_with_every_release() -> None:
    report = check_catalog(load_catalog())
    assert report.parse_errors == []
    assert report.incompatibilities == []
    assert len(report.checked_subjects) == len(load_catalog().avro_topics())


@pytest.mark.parametrize(
    ("mutate", "direction"),
    [
        (_change_type, Direction.BACKWARD),
        (_remove_required, Direction.FORWARD),
        (_add_without_default, Direction.BACKWARD),
    ],
    ids=["type-change", "removed-required-field", "new-field-without-default"],
)
def test_breaking_change_fails_the_check(tmp_path: Path, mutate: Mutation, direction: Direction) -> None:
    """OrderLine is nested deep inside OrderEvent: the check must see changes to shared records."""
    root = _mutated_tree(tmp_path, "orders/OrderLine.avsc", mutate)
    report = check_catalog(load_catalog(), schema_root=root, released_root=RELEASED_ROOT)
    broken = {(i.subject, i.direction) for i in report.incompatibilities}
    assert ("canonical.orders.v1-value", direction) in broken
    assert not report.ok


def test_optional_field_with_default_passes(tmp_path: Path) -> None:
    root = _mutated_tree(tmp_path, "orders/OrderLine.avsc", _add_optional)
    report = check_catalog(load_catalog(), schema_root=root, released_root=RELEASED_ROOT)
    assert report.ok, report.incompatibilities


def test_shared_type_change_breaks_every_subject_using_it(tmp_path: Path) -> None:
    root = _mutated_tree(
        tmp_path, "common/EventMetadata.avsc", lambda s: _field(s, "event_type").update(type="long")
    )
    report = check_catalog(load_catalog(), schema_root=root, released_root=RELEASED_ROOT)
    released = {t.value_subject for t in load_catalog().avro_topics() if released_versions(t.avro_value()[0])}
    assert len(released) >= 14
    assert {i.subject for i in report.incompatibilities} == released


def test_unparseable_schema_is_reported(tmp_path: Path) -> None:
    root = _mutated_tree(
        tmp_path, "common/Money.avsc", lambda s: _field(s, "currency").update(type="no.such.Type")
    )
    report = check_catalog(load_catalog(), schema_root=root, released_root=RELEASED_ROOT)
    assert any("Money.avsc" in error for error in report.parse_errors)


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["schemas", "check"])
    assert ok.exit_code == 0, ok.output
    root = _mutated_tree(tmp_path, "orders/OrderLine.avsc", _remove_required)
    broken = runner.invoke(app, ["schemas", "check", "--schemas-dir", str(root)])
    assert broken.exit_code == 1
    assert "canonical.orders.v1-value v1 FORWARD" in broken.output
