"""``esb ingest <system> <file|folder>``: EDI X12 and CSV feeds into ``ingress.<system>.<entity>``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bus.config import KafkaSettings
from services.gateway.ingest.csv_feed import CsvError
from services.gateway.ingest.publish import publish
from services.gateway.ingest.records import IngressRecord, records_for_file
from services.gateway.ingest.settings import IngestSettings
from services.gateway.ingest.x12 import X12Error
from services.gateway.producer import producer_config

__all__ = ["ingest"]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [path]


def ingest(
    system: Annotated[str, typer.Argument(help="source system, e.g. 'edi' or 'acme-wms'")],
    path: Annotated[Path, typer.Argument(exists=True, help="a file, or a folder of files")],
    entity: Annotated[str, typer.Option(help="entity of CSV feeds; X12 uses the transaction set")] = "stock",
) -> None:
    """Write each X12 transaction set (ST..SE) or CSV feed as raw bytes to its ingress topic."""
    settings = IngestSettings()
    kafka = KafkaSettings()  # type: ignore[call-arg]  # bootstrap_servers comes from the environment
    records: list[IngressRecord] = []
    rejected = 0
    for file in _files(path):
        try:
            records += records_for_file(
                file,
                file.read_bytes(),
                system=system,
                entity=entity,
                prefix=settings.topic_prefix,
                received_at=time.time(),
                max_bytes=settings.max_record_bytes,
            )
        except (X12Error, CsvError, ValueError) as exc:
            rejected += 1
            typer.echo(f"rejected {file}: {exc}", err=True)
    config = producer_config(
        kafka.client_config(),
        client_id=f"{kafka.client_id_prefix}-ingest",
        delivery_timeout_ms=settings.delivery_timeout_ms,
    )
    report = publish(config, records, timeout_s=settings.delivery_timeout_ms / 1000 + 5)
    for failure in report.failures:
        typer.echo(f"not written: {failure}", err=True)
    typer.echo(
        f"{report.delivered} records written, {len(report.failures)} failed, {rejected} files rejected"
    )
    if report.failures or rejected:
        raise typer.Exit(code=1)
