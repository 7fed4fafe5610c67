"""``esb dlq list|show|replay``: inspect and re-inject a service's dead letters."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bus.config import KafkaSettings
from bus.dlq import DeadLetter, matches, read_dead_letters, replay
from esb.security.audit import AUDIT_TOPIC, AuditAction, record_action

__all__ = ["app"]

app = typer.Typer(help="Inspect and replay dead letters (dlq.<service>).", no_args_is_help=True)
_console = Console()

FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", "-f", help="name=value; names: error-class, stage, source-topic, source-partition, key"
    ),
]


def _filters(raw: list[str] | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in raw or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected name=value, got {item!r}")
        filters[name.strip()] = value.strip()
    return filters


def _load(service: str, raw_filters: list[str] | None) -> list[DeadLetter]:
    config = KafkaSettings().client_config()  # type: ignore[call-arg]
    filters = _filters(raw_filters)
    try:
        return [letter for letter in read_dead_letters(config, service) if matches(letter, filters)]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("list")
def list_(service: str, filter_: FilterOption = None) -> None:
    """One line per dead letter: where it came from and why."""
    table = Table("dlq offset", "source", "stage", "attempt", "error", "first failure")
    letters = _load(service, filter_)
    for letter in letters:
        table.add_row(
            f"{letter.dlq_partition}:{letter.dlq_offset}",
            f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}",
            letter.stage,
            str(letter.attempt),
            f"{letter.error_class.rsplit('.', 1)[-1]}: {letter.error_message[:80]}",
            letter.first_failure_at,
        )
    _console.print(table)
    _console.print(f"{len(letters)} dead letters")


@app.command()
def show(service: str, offset: Annotated[str, typer.Argument(help="partition:offset in the DLQ")]) -> None:
    """Everything about one dead letter, including its original headers and bytes."""
    partition, _, number = offset.rpartition(":")
    wanted = (int(partition or 0), int(number))
    for letter in _load(service, None):
        if (letter.dlq_partition, letter.dlq_offset) == wanted:
            for name in DeadLetter.__slots__:
                value = getattr(letter, name)
                _console.print(f"[bold]{name}[/bold]: {value!r}")
            return
    raise typer.BadParameter(f"no dead letter at {offset}")


@app.command("replay")
def replay_(
    service: str,
    filter_: FilterOption = None,
    to_topic: Annotated[str | None, typer.Option(help="produce here instead of the source topic")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="really produce (default: dry run)")] = False,
    why: Annotated[str, typer.Option(help="reason, recorded in the audit trail")] = "not given",
    audit_topic: Annotated[str, typer.Option(help="the audit trail topic")] = AUDIT_TOPIC,
) -> None:
    """Re-inject the matching dead letters into their source topic. Dry run unless --execute."""
    letters = _load(service, filter_)
    for letter in letters:
        target = to_topic or letter.source_topic
        _console.print(
            f"{letter.dlq_partition}:{letter.dlq_offset} -> {target} ({letter.stage}: {letter.error_class})"
        )
    if not execute:
        _console.print(f"dry run: {len(letters)} dead letters would be replayed; add --execute")
        return
    settings = KafkaSettings()  # type: ignore[call-arg]
    count = replay(settings.client_config(), letters, to_topic)
    _console.print(f"replayed {count} dead letters")
    record_action(
        settings,
        AuditAction.DLQ_REPLAY,
        target=f"dlq.{service}",
        why=why,
        details={"count": count, "to_topic": to_topic, "filters": list(filter_ or [])},
        topic=audit_topic,
    )
