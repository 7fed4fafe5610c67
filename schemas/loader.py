"""Loads ``.avsc`` files and resolves named types across them (one named type per file).

``com.esb.canonical.<domain>.<Name>`` lives in ``schemas/<domain>/<Name>.avsc``. fastavro's
``load_schema`` asks the repository below for every name it cannot resolve and inlines it at its
first use, so the result is one self-contained schema: what the registry stores for a subject.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.repository.base import AbstractSchemaRepository, SchemaRepositoryError
from fastavro.schema import load_schema

from schemas.base import NAMESPACE_ROOT

__all__ = [
    "SCHEMA_ROOT",
    "AvscRepository",
    "avsc_files",
    "load_avsc",
    "parsed_schema",
    "schema_text",
]

SCHEMA_ROOT = Path(__file__).resolve().parent


class AvscRepository(AbstractSchemaRepository):
    """Maps a full Avro name to its file under ``root``."""

    def __init__(self, root: Path = SCHEMA_ROOT) -> None:
        self.root = root

    def path_of(self, fullname: str) -> Path:
        namespace, _, name = fullname.rpartition(".")
        prefix = f"{NAMESPACE_ROOT}."
        if not namespace.startswith(prefix) or "." in namespace[len(prefix) :]:
            raise SchemaRepositoryError(f"{fullname} is not in a {NAMESPACE_ROOT}.<domain> namespace")
        return self.root / namespace[len(prefix) :] / f"{name}.avsc"

    def load(self, name: str) -> Any:
        path = self.path_of(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise SchemaRepositoryError(f"no schema file for {name} at {path}") from error


def avsc_files(root: Path = SCHEMA_ROOT) -> list[Path]:
    """Every working schema file (released snapshots excluded)."""
    return sorted(p for p in root.glob("*/*.avsc") if p.parent.name != "released")


def load_avsc(fullname: str, root: Path = SCHEMA_ROOT) -> dict[str, Any]:
    """The expanded schema of ``fullname`` as plain JSON data (no fastavro markers)."""
    parsed = load_schema(fullname, repo=AvscRepository(root))
    return _without_markers(parsed)  # type: ignore[no-any-return]


@cache
def schema_text(fullname: str) -> str:
    """The expanded schema as compact JSON text, as registered and handed to ``AvroSerializer``."""
    return json.dumps(load_avsc(fullname), separators=(",", ":"))


@cache
def parsed_schema(fullname: str) -> Any:
    """The schema parsed for fastavro's readers and writers."""
    from fastavro import parse_schema

    return parse_schema(json.loads(schema_text(fullname)))


def _without_markers(schema: Any) -> Any:
    # fastavro marks parsed schemas with "__fastavro_parsed" / "__named_schemas": not part of Avro.
    if isinstance(schema, dict):
        return {k: _without_markers(v) for k, v in schema.items() if not k.startswith("__")}
    if isinstance(schema, list):
        return [_without_markers(v) for v in schema]
    return schema
