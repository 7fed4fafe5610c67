"""Which adapter translates which ingress records: one entry per (system, entity).

Each adapter module under ``services.translator.adapters`` exposes ``ROUTES``, a mapping from
``(system, entity)`` to a pure function ``IngressRecord -> list[canonical event]``. Adding a system
is adding a module and listing it here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module

from schemas.base import AvroRecord
from services.translator.errors import TranslationError
from services.translator.fast_paths import FastTranslate
from services.translator.ingress import IngressRecord

__all__ = ["ADAPTER_MODULES", "Translate", "adapter_for", "all_fast_routes", "all_routes"]

Translate = Callable[[IngressRecord], Sequence[AvroRecord]]

ADAPTER_MODULES: tuple[str, ...] = (
    # commerce channels
    "shopify",
    "woocommerce",
    "amazon",
    "magento",
    # payments and back office
    "stripe",
    "adyen",
    "netsuite",
    "business_central",
    "sap",
    "edi_x12",
)


def all_routes() -> dict[tuple[str, str], Translate]:
    routes: dict[tuple[str, str], Translate] = {}
    for module_name in ADAPTER_MODULES:
        module_routes: Mapping[tuple[str, str], Translate] = import_module(
            f"services.translator.adapters.{module_name}"
        ).ROUTES
        duplicated = routes.keys() & module_routes.keys()
        if duplicated:
            raise RuntimeError(f"routes declared twice: {sorted(duplicated)}")
        routes.update(module_routes)
    return routes


def all_fast_routes() -> dict[tuple[str, str], FastTranslate]:
    """The compiled fast paths of the adapter modules (``FAST_ROUTES``; none without the extension)."""
    fast: dict[tuple[str, str], FastTranslate] = {}
    for module_name in ADAPTER_MODULES:
        fast.update(getattr(import_module(f"services.translator.adapters.{module_name}"), "FAST_ROUTES", {}))
    return fast


def adapter_for(system: str, entity: str, routes: Mapping[tuple[str, str], Translate]) -> Translate:
    try:
        return routes[(system, entity)]
    except KeyError:
        known = ", ".join(f"{s}.{e}" for s, e in sorted(routes))
        raise TranslationError(
            "ingress topic", f"a supported system.entity ({known})", f"{system}.{entity}"
        ) from None
