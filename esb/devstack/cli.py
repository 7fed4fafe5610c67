"""`esb dev up | status | down`: the local stack as background processes."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from esb.devstack import secure as secure_material
from esb.devstack import stack
from esb.devstack.fetch import MissingToolError
from esb.devstack.processes import PortTakenError, StartFailedError
from esb.devstack.settings import DevStackSettings
from esb.governance.catalog import DEFAULT_CATALOG_PATH, load_catalog
from esb.security.acls import catalog_principals

__all__ = ["app"]

app = typer.Typer(help="Run the local stack: Kafka (KRaft), schema registry, Jaeger.", no_args_is_help=True)
_console = Console()


@app.command("up")
def up_command(
    brokers: int = typer.Option(
        1, "--brokers", min=1, max=3, help="Kafka nodes: 1, or 3 for failover tests."
    ),
    secure: bool = typer.Option(
        False,
        "--secure",
        help="SASL_SSL only (SCRAM-SHA-512, TLS from a local CA), StandardAuthorizer, deny by default; "
        "one SCRAM principal per service of the topic catalog plus the admin principal.",
    ),
) -> None:
    """Fetch (once, cached), start and wait for the stack. Idempotent."""
    settings = DevStackSettings()
    principals: list[str] = []
    if secure and DEFAULT_CATALOG_PATH.exists():
        principals = sorted(catalog_principals(load_catalog(DEFAULT_CATALOG_PATH)))
    try:
        endpoints = stack.up(settings, brokers=brokers, secure=secure, principals=principals)
    except (MissingToolError, PortTakenError, StartFailedError, RuntimeError) as error:
        _console.print(f"[red]esb dev up failed:[/red] {error}")
        raise typer.Exit(1) from error
    _console.print("[green]stack is up[/green]" + (" (secure: SASL_SSL + ACLs)" if secure else ""))
    if secure:
        # Paths only: passwords stay in their 0600 files.
        for name, value in secure_material.client_env(
            settings, secure_material.ADMIN_PRINCIPAL, brokers
        ).items():
            _console.print(f"{name}={value}")
        _console.print(
            f"service principals (password files in {secure_material.secrets_dir(settings)}/users):"
        )
        _console.print("  " + (", ".join(principals) or "none"))
    else:
        _console.print(f"KAFKA_BOOTSTRAP_SERVERS={endpoints.bootstrap_servers}")
    _console.print(f"SCHEMA_REGISTRY_URL={endpoints.schema_registry_url}")
    _console.print(f"OTEL_EXPORTER_OTLP_ENDPOINT={endpoints.otlp_http_endpoint}")
    _console.print(f"Jaeger UI / query API: {endpoints.jaeger_query_url}")
    _console.print(f"logs and pid files: {settings.state_dir / 'run'}")


@app.command("status")
def status_command() -> None:
    """Show each component's pid, readiness, endpoints and log file. Exit 1 unless all are ready."""
    settings = DevStackSettings()
    rows = stack.status(settings)
    table = Table("component", "pid", "state", "endpoints", "log")
    for row in rows:
        state = (
            "[green]ready[/green]" if row.ready else ("[yellow]starting[/yellow]" if row.pid else "stopped")
        )
        table.add_row(row.name, str(row.pid or "-"), state, row.endpoint, row.log_file)
    _console.print(table)
    if not all(row.ready for row in rows):
        raise typer.Exit(1)


@app.command("down")
def down_command(
    purge: bool = typer.Option(False, "--purge", help="Also delete Kafka's data and the registry's state."),
) -> None:
    """Stop exactly the processes `esb dev up` started."""
    stopped = stack.down(DevStackSettings(), purge=purge)
    _console.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
