"""The `esb` command line: one entry point for operators and developers."""

from __future__ import annotations

import typer

from esb.bus_supervisor.cli import app as bus_app
from esb.demo.cli import demo
from esb.devstack.cli import app as dev_app
from esb.dlq_cli import app as dlq_app
from esb.governance.cli import docs_app, schemas_app, topics_app
from esb.ingest import ingest
from esb.observe.cli import status
from esb.runtime_cli import run
from esb.security.cli import acls_app
from esb.translate_cli import translate
from services.inventory_projector.backfill import command as backfill
from services.inventory_projector.rebuild import command as rebuild

__all__ = ["app", "main"]

app = typer.Typer(help="Event-driven integration bus for commerce.", no_args_is_help=True)
app.add_typer(dev_app, name="dev")
app.add_typer(schemas_app, name="schemas")
app.add_typer(topics_app, name="topics")
app.add_typer(docs_app, name="docs")
app.command("ingest")(ingest)
app.add_typer(dlq_app, name="dlq")
app.command("run")(run)
app.add_typer(bus_app, name="bus")
app.command("demo")(demo)
app.command("status")(status)
app.add_typer(acls_app, name="acls")
app.command("translate")(translate)
app.command("rebuild")(rebuild)
app.command("backfill")(backfill)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
