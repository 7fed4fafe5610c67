"""``esb acls plan|apply`` (least privilege from the topic catalog) and ``esb audit list``.

Both connect with the ``KAFKA_*`` environment (``KAFKA_SASL_PASSWORD_FILE`` for the password); the
ACL commands need a principal allowed to alter ACLs (the admin / a super user).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.table import Table

from bus.config import KafkaSettings
from esb.governance.catalog import DEFAULT_CATALOG_PATH, load_catalog
from esb.security.acls import AclConflictError, AclPlan, apply_plan, derive_grants, plan_acls
from esb.security.audit import AUDIT_TOPIC, AuditAction, read_audit, record_action

__all__ = ["acls_app", "audit_app"]

acls_app = typer.Typer(help="Least-privilege ACLs derived from the topic catalog.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of administrative actions (audit.v1).", no_args_is_help=True)
_console = Console()

CatalogOption = Annotated[Path, typer.Option("--catalog", help="the topic catalog")]
PrefixOption = Annotated[str, typer.Option("--prefix", help="topic name prefix of this environment")]


def _plan(catalog_path: Path, prefix: str) -> tuple[KafkaSettings, AdminClient, AclPlan]:
    catalog = load_catalog(catalog_path).for_environment(prefix=prefix)
    try:
        desired = derive_grants(catalog)
    except AclConflictError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = KafkaSettings()  # type: ignore[call-arg]
    admin = AdminClient(dict(settings.client_config()))
    return settings, admin, plan_acls(admin, desired)


def _print(plan: AclPlan) -> None:
    for line in plan.lines():
        _console.print(f"[green]{line}[/green]" if line.startswith("+") else f"[red]{line}[/red]")
    _console.print(
        f"{len(plan.to_create)} to create, {len(plan.to_delete)} to delete, {plan.unchanged} unchanged"
    )


@acls_app.command("plan")
def plan_command(catalog: CatalogOption = DEFAULT_CATALOG_PATH, prefix: PrefixOption = "") -> None:
    """Show the diff between the catalog's ACLs and the cluster's (its principals only)."""
    _settings, _admin, plan = _plan(catalog, prefix)
    _print(plan)


@acls_app.command("apply")
def apply_command(
    why: Annotated[str, typer.Option("--why", help="the reason, recorded in the audit trail")],
    catalog: CatalogOption = DEFAULT_CATALOG_PATH,
    prefix: PrefixOption = "",
    prune: Annotated[
        bool, typer.Option(help="delete ACLs of catalog principals the catalog no longer grants")
    ] = True,
    audit_topic: Annotated[str, typer.Option(help="where the change is recorded")] = AUDIT_TOPIC,
) -> None:
    """Create the missing ACLs, delete the stale ones (idempotent), record the change in the audit trail."""
    settings, admin, plan = _plan(catalog, prefix)
    if plan.empty:
        _console.print(f"nothing to change ({plan.unchanged} ACLs in place)")
        return
    try:
        done = apply_plan(admin, plan, prune=prune)
    except KafkaException as exc:
        _console.print(f"[red]applying ACLs failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    _print(done)
    record_action(
        settings,
        AuditAction.ACL_CHANGE,
        target=f"acls:{catalog}",
        why=why,
        details={"created": [str(g) for g in done.to_create], "deleted": [str(g) for g in done.to_delete]},
        topic=audit_topic,
    )


@audit_app.command("list")
def list_command(
    topic: Annotated[str, typer.Option(help="the audit topic")] = AUDIT_TOPIC,
    action: Annotated[str | None, typer.Option(help="only this action, e.g. acl.change")] = None,
) -> None:
    """Every audit record: when, who (as which principal), what, why."""
    settings = KafkaSettings()  # type: ignore[call-arg]
    table = Table("when (UTC)", "who", "principal", "action", "target", "why")
    records = read_audit(settings.client_config(), topic)
    for record in records:
        if action is None or record.action.value == action:
            table.add_row(
                record.when.isoformat(),
                record.who,
                record.principal or "-",
                record.action,
                record.target,
                record.why,
            )
    _console.print(table)
