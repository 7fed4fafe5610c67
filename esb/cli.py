"""The `esb` command line: one entry point for operators and developers."""

from __future__ import annotations

import typer

from esb.devstack.cli import app as dev_app

__all__ = ["app", "main"]

app = typer.Typer(help="Event-driven integration bus for commerce.", no_args_is_help=True)
app.add_typer(dev_app, name="dev")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
