"""`esb translate <canonical topic> EVENT.json --to <target document>`: the egress direction.

Reads one canonical event (bare, or the ``{"topic", "key", "value"}`` document the inbound direction
prints), translates it with the egress translator for the chosen target document and prints the
delivery headers and the native document exactly as the connector would send it. Target master data
comes from ``--egress-config`` (a JSON object shaped like ``EgressSettings``: ``netsuite``, ``sap``...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from esb.governance.catalog import load_catalog
from schemas.events import event_model
from services.egress.errors import UntranslatableError
from services.egress.handler import translate as egress_translate
from services.egress.settings import EgressSettings

__all__ = ["DOCUMENTS", "translate_to"]

DOCUMENTS = (
    "netsuite.salesOrder",
    "netsuite.customer",
    "netsuite.journalEntry",
    "netsuite.inventoryAdjustment",
    "business-central.salesOrder",
    "business-central.salesOrderChange",
    "business-central.customer",
    "business-central.journalLine",
    "sap.ORDERS05",
    "x12.940",
    "shopify.inventoryLevel",
)
_ALL_ERPS = ["netsuite", "business-central", "sap"]


def translate_to(document: str, topic: str, file: Path, config: Path | None, control_number: int) -> None:
    """Print the ``document`` built from the canonical event in ``file`` (exit 1 when impossible)."""
    if document not in DOCUMENTS:
        raise typer.BadParameter(f"--to must be one of {', '.join(DOCUMENTS)}")
    avro = load_catalog().topic(topic).value.avro
    if avro is None:
        raise typer.BadParameter(f"{topic} is not a canonical (Avro) topic")
    data: Any = json.loads(file.read_text(encoding="utf-8"))
    if isinstance(data, dict) and {"topic", "value"} <= data.keys():
        data = data["value"]
    event = event_model(avro).model_validate(data)
    overrides: dict[str, Any] = json.loads(config.read_text(encoding="utf-8")) if config else {}
    settings = EgressSettings(
        **{
            "routed_orders_topic": "",
            "order_targets": _ALL_ERPS,
            "journal_targets": _ALL_ERPS,
            "customer_targets": _ALL_ERPS,
            **overrides,
        }
    )
    try:
        docs = [
            d
            for d in egress_translate(event, settings, lambda _key: control_number)
            if d.document_type == document
        ]
    except UntranslatableError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(1) from error
    if not docs:
        typer.echo(
            f"no {document} for this event (not configured, not applicable, or echo of its source)", err=True
        )
        raise typer.Exit(1)
    for doc in docs:
        typer.echo(f"# {doc.method} {doc.path}  ->  {doc.topic} key={doc.key}")
        for name, value in doc.headers().items():
            typer.echo(f"# {name}: {value.decode()}")
        typer.echo(doc.body.decode("utf-8"))
