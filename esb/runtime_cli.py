"""``esb run <service>``: run a service's ``main()`` (the same as ``python -m services.<service>``)."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

__all__ = ["run"]


def run(
    service: Annotated[str, typer.Argument(help="package under services/, e.g. examples.running_total")],
) -> None:
    """Run a service until SIGTERM/SIGINT."""
    try:
        module = importlib.import_module(f"services.{service}.__main__")
    except ModuleNotFoundError as exc:
        raise typer.BadParameter(f"no service package services.{service} ({exc})") from exc
    main = getattr(module, "main", None)
    if not callable(main):
        raise typer.BadParameter(f"services.{service}.__main__ has no main()")
    main()
