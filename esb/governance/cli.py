"""``esb schemas``, ``esb topics`` and ``esb docs``: governance of the canonical model and the topics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from rich.console import Console
from rich.table import Table

from bus.config import KafkaSettings, SchemaRegistrySettings
from esb.governance.asyncapi import build_document, validate_document
from esb.governance.catalog import DEFAULT_CATALOG_PATH, Catalog, load_catalog
from esb.governance.compatibility import RELEASED_ROOT, check_catalog, release_snapshots
from esb.governance.registry import IncompatibleSchemaError, check_against_registry, register_catalog
from esb.governance.topics import TopicStatus, apply_catalog, compare_catalog
from esb.security.audit import AuditAction, record_action
from schemas.loader import SCHEMA_ROOT

__all__ = ["docs_app", "schemas_app", "topics_app"]

schemas_app = typer.Typer(
    help="Check, release and register the canonical Avro schemas.", no_args_is_help=True
)
topics_app = typer.Typer(help="Apply the topic catalog to a cluster and compare them.", no_args_is_help=True)
docs_app = typer.Typer(help="Generate documentation from the catalog and the schemas.", no_args_is_help=True)

CatalogOption = Annotated[Path, typer.Option("--catalog", help="topic catalog file")]
RegistryOption = Annotated[
    str | None,
    typer.Option("--registry-url", envvar="SCHEMA_REGISTRY_URL", help="Confluent-API registry URL"),
]
BootstrapOption = Annotated[
    str | None, typer.Option("--bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap")
]
PrefixOption = Annotated[str, typer.Option("--prefix", help="prepend to every topic/subject name (tests)")]
ReplicationOption = Annotated[
    int | None,
    typer.Option("--replication-factor", help="override for small clusters (caps min.insync.replicas)"),
]


def _catalog(path: Path, prefix: str = "", replication_factor: int | None = None) -> Catalog:
    return load_catalog(path).for_environment(prefix=prefix, replication_factor=replication_factor)


def _registry(url: str | None) -> SchemaRegistryClient:
    overrides: dict[str, Any] = {"url": url} if url else {}
    return SchemaRegistryClient(SchemaRegistrySettings(**overrides).client_config())


def _admin(bootstrap_servers: str | None) -> AdminClient:
    overrides: dict[str, Any] = {"bootstrap_servers": bootstrap_servers} if bootstrap_servers else {}
    config: dict[str, str | int | float | bool] = {**KafkaSettings(**overrides).client_config()}
    return AdminClient(config)


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code=1)


@schemas_app.command("check")
def schemas_check(
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    registry_url: Annotated[
        str | None, typer.Option("--registry-url", help="also ask this registry's compatibility API")
    ] = None,
    prefix: PrefixOption = "",
    schemas_dir: Annotated[Path, typer.Option("--schemas-dir", help="working .avsc tree")] = SCHEMA_ROOT,
    released_dir: Annotated[Path, typer.Option("--released-dir", help="released snapshots")] = RELEASED_ROOT,
) -> None:
    """Every schema parses and is FULL_TRANSITIVE-compatible with every released version."""
    spec = _catalog(catalog, prefix)
    report = check_catalog(spec, schema_root=schemas_dir, released_root=released_dir)
    problems = report.parse_errors + [str(i) for i in report.incompatibilities]
    if registry_url:
        problems += check_against_registry(_registry(registry_url), spec)
    if problems:
        _fail(problems)
    typer.echo(f"{len(report.checked_subjects)} subjects compatible with every released version")


@schemas_app.command("release")
def schemas_release(catalog: CatalogOption = DEFAULT_CATALOG_PATH) -> None:
    """Snapshot changed value schemas as the next released version (run when a version ships)."""
    report = check_catalog(load_catalog(catalog))
    if not report.ok:
        _fail(report.parse_errors + [str(i) for i in report.incompatibilities])
    for path in release_snapshots(load_catalog(catalog)):
        typer.echo(f"released {path}")


@schemas_app.command("register")
def schemas_register(
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    registry_url: RegistryOption = None,
    prefix: PrefixOption = "",
    why: Annotated[str, typer.Option(help="reason, recorded in the audit trail")] = "not given",
    audit: Annotated[bool, typer.Option(help="record the registration in the audit trail (Kafka)")] = True,
) -> None:
    """Check, then register every canonical value schema and pin its subject to FULL_TRANSITIVE."""
    spec = _catalog(catalog, prefix)
    report = check_catalog(spec)
    if not report.ok:
        _fail(report.parse_errors + [str(i) for i in report.incompatibilities])
    try:
        registered = register_catalog(_registry(registry_url), spec)
    except IncompatibleSchemaError as error:
        _fail([str(error)])
    for item in registered:
        typer.echo(f"{item.subject}: id {item.schema_id}")
    if audit:
        record_action(
            KafkaSettings(),  # type: ignore[call-arg]
            AuditAction.SCHEMA_REGISTER,
            target="canonical value schemas",
            why=why,
            details={"subjects": {item.subject: item.schema_id for item in registered}},
        )


@topics_app.command("apply")
def topics_apply(
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    bootstrap_servers: BootstrapOption = None,
    replication_factor: ReplicationOption = None,
    prefix: PrefixOption = "",
) -> None:
    """Create missing topics, add partitions, set drifted configs. Safe to run again."""
    spec = _catalog(catalog, prefix, replication_factor)
    try:
        states = apply_catalog(_admin(bootstrap_servers), spec)
    except ValueError as error:
        _fail([str(error)])
    for state in states:
        if state.status is not TopicStatus.OK:
            typer.echo(
                f"{state.spec.name}: {state.status} {state.config_changes or ''} {state.conflicts or ''}"
            )
    conflicts = [s for s in states if s.status is TopicStatus.CONFLICT]
    if conflicts:
        _fail([f"{s.spec.name}: needs manual action: {'; '.join(s.conflicts)}" for s in conflicts])
    typer.echo(f"{len(states)} topics match the catalog")


@topics_app.command("list")
def topics_list(
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    bootstrap_servers: BootstrapOption = None,
    replication_factor: ReplicationOption = None,
    prefix: PrefixOption = "",
) -> None:
    """The catalog against the cluster: partitions, replication, config drift per topic."""
    states = compare_catalog(_admin(bootstrap_servers), _catalog(catalog, prefix, replication_factor))
    table = Table("topic", "status", "partitions", "replication", "owner", "value", "drift")
    for s in states:
        actual_p = "-" if s.actual_partitions is None else str(s.actual_partitions)
        actual_r = "-" if s.actual_replication is None else str(s.actual_replication)
        drift = "; ".join([*s.conflicts, *(f"{k}={v}" for k, v in s.config_changes.items())])
        value = s.spec.value.avro or s.spec.value.format or ""
        row = (
            s.spec.name,
            s.status.value,
            f"{actual_p}/{s.partitions}",
            f"{actual_r}/{s.replication_factor}",
        )
        table.add_row(*row, s.spec.owner, value, drift)
    Console(width=200).print(table)


@docs_app.command("asyncapi")
def docs_asyncapi(
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    output: Annotated[Path, typer.Option("--output", help="'-' for stdout")] = Path("docs/asyncapi.yaml"),
) -> None:
    """Generate the AsyncAPI 3.0 document and validate it against the official JSON schema."""
    document = build_document(load_catalog(catalog))
    errors = validate_document(document)
    if errors:
        _fail(errors)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    if str(output) == "-":
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
