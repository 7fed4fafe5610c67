"""Offline schema checks: every ``.avsc`` parses, and every working value schema is compatible with
every released version of its subject in both directions (FULL_TRANSITIVE).

Why both directions: BACKWARD alone lets a producer drop a required field, which breaks every consumer
still running the old reader. Downstream teams read with whatever version they generated code from,
so a change must be readable by old readers (FORWARD) and must read old data (BACKWARD).

Released versions are snapshots in ``schemas/released/<subject>/v<N>.avsc`` (expanded, self-contained),
written by ``esb schemas release`` when a version ships.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import avro.errors
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from fastavro.repository.base import SchemaRepositoryError
from fastavro.schema import SchemaParseException, UnknownType

from esb.governance.catalog import Catalog
from schemas.base import NAMESPACE_ROOT
from schemas.loader import SCHEMA_ROOT, avsc_files, load_avsc

__all__ = [
    "RELEASED_ROOT",
    "Direction",
    "Incompatibility",
    "SchemaReport",
    "check_catalog",
    "check_pair",
    "release_snapshots",
    "released_versions",
]

RELEASED_ROOT = SCHEMA_ROOT / "released"


class Direction(StrEnum):
    BACKWARD = "BACKWARD"  # the new schema reads data written with the released one
    FORWARD = "FORWARD"  # the released schema reads data written with the new one


@dataclass(frozen=True, slots=True)
class Incompatibility:
    subject: str
    version: int
    direction: Direction
    messages: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.subject} v{self.version} {self.direction}: {'; '.join(self.messages)}"


@dataclass(slots=True)
class SchemaReport:
    parse_errors: list[str] = field(default_factory=list)
    incompatibilities: list[Incompatibility] = field(default_factory=list)
    checked_subjects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.parse_errors and not self.incompatibilities


def _fullname_of(path: Path, schema_root: Path) -> str:
    return f"{NAMESPACE_ROOT}.{path.parent.relative_to(schema_root).as_posix()}.{path.stem}"


def _expanded_text(fullname: str, schema_root: Path) -> str:
    return json.dumps(load_avsc(fullname, schema_root))


def check_pair(subject: str, version: int, working: str, released: str) -> list[Incompatibility]:
    """Compatibility of the working schema with one released version, both directions."""
    new, old = avro.schema.parse(working), avro.schema.parse(released)
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro is untyped
    problems = []
    for direction, reader, writer in ((Direction.BACKWARD, new, old), (Direction.FORWARD, old, new)):
        result = checker.get_compatibility(reader, writer)
        if result.compatibility is not SchemaCompatibilityType.compatible:
            problems.append(Incompatibility(subject, version, direction, tuple(sorted(result.messages))))
    return problems


def released_versions(subject: str, released_root: Path = RELEASED_ROOT) -> list[tuple[int, Path]]:
    folder = released_root / subject
    versions = [(int(p.stem.removeprefix("v")), p) for p in folder.glob("v*.avsc")]
    return sorted(versions)


def check_catalog(
    catalog: Catalog,
    *,
    schema_root: Path = SCHEMA_ROOT,
    released_root: Path = RELEASED_ROOT,
    only: Sequence[str] = (),
) -> SchemaReport:
    """Parse every schema file, then check each catalog subject (or ``only`` these) against its releases."""
    report = SchemaReport()
    for path in avsc_files(schema_root):
        fullname = _fullname_of(path, schema_root)
        try:
            avro.schema.parse(_expanded_text(fullname, schema_root))
        except (SchemaParseException, UnknownType, SchemaRepositoryError, avro.errors.AvroException) as error:
            report.parse_errors.append(f"{path}: {error}")
        except (ValueError, KeyError, TypeError) as error:  # malformed JSON or schema structure
            report.parse_errors.append(f"{path}: {type(error).__name__}: {error}")
    if report.parse_errors:
        return report
    for topic in catalog.avro_topics():
        subject, record = topic.avro_value()
        if only and subject not in only:
            continue
        report.checked_subjects.append(subject)
        working = _expanded_text(record, schema_root)
        for version, path in released_versions(subject, released_root):
            released = path.read_text(encoding="utf-8")
            report.incompatibilities.extend(check_pair(subject, version, working, released))
    return report


def release_snapshots(
    catalog: Catalog, *, schema_root: Path = SCHEMA_ROOT, released_root: Path = RELEASED_ROOT
) -> list[Path]:
    """Snapshot each subject whose working schema differs from its latest release as the next version."""
    written = []
    for topic in catalog.avro_topics():
        subject, record = topic.avro_value()
        working = load_avsc(record, schema_root)
        versions = released_versions(subject, released_root)
        if versions and json.loads(versions[-1][1].read_text(encoding="utf-8")) == working:
            continue
        path = released_root / subject / f"v{versions[-1][0] + 1 if versions else 1}.avsc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(working, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
