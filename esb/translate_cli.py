"""`esb translate`: try a payload through an adapter and see the canonical events, schema-checked.

Inbound: ``esb translate shopify.orders order.json`` prints each canonical event as JSON and
validates it against its registered Avro schema (fastavro), exactly what the translator service
would publish. This is the tool an integration engineer uses on a new payload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from fastavro.validation import validate

from esb.translate_egress import translate_to
from schemas.loader import parsed_schema
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.registry import adapter_for, all_routes
from services.translator.routing import destinations_of

__all__ = ["translate"]


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def translate(
    route: Annotated[str, typer.Argument(help="system.entity, e.g. shopify.orders, stripe.events, edi.850")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the native payload")],
    account: str = typer.Option("default", help="shop / store / merchant account the payload came from"),
    event_id: str | None = typer.Option(None, "--event-id", help="provider event id (webhook delivery id)"),
    shop_currency: str | None = typer.Option(None, help="shop currency where the payload states none"),
    to: Annotated[
        str | None, typer.Option("--to", help="egress: ROUTE is a canonical topic, FILE an event")
    ] = None,
    egress_config: Annotated[Path | None, typer.Option(help="egress: target master data (JSON)")] = None,
    control_number: Annotated[int, typer.Option(help="egress: X12 ISA13/GS06")] = 1,
) -> None:
    """Translate FILE with the adapter for ROUTE; print the canonical events; exit 1 on rejection.

    With ``--to netsuite.salesOrder`` (etc.) the direction is reversed: see ``esb.translate_egress``.
    """
    if to is not None:
        translate_to(to, route, file, egress_config, control_number)
        return
    system, _, entity = route.partition(".")
    record = IngressRecord(
        raw=file.read_bytes(),
        system=system,
        entity=entity,
        account=account,
        received_at=datetime.now(UTC),
        provider_event_id=event_id,
        shop_currency=shop_currency,
    )
    try:
        events = adapter_for(system, entity, all_routes())(record)
    except TranslationError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(1) from error
    for event in events:
        avro = event.to_avro()
        validate(avro, parsed_schema(event.avro_name()), raise_errors=True)
        for destination in destinations_of(event):
            document = {"topic": destination.topic, "key": destination.key(event), "value": avro}
            typer.echo(json.dumps(document, indent=2, default=_json_default))
    typer.echo(f"{len(events)} canonical event(s), valid against their Avro schemas", err=True)
