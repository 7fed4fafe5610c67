"""Environments of the egress service and the delivery connector in the egress broker tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from esb.devstack.stack import StackEndpoints
from tests.integration.runtime.harness import service_env

__all__ = ["connector_env", "egress_env"]

_EGRESS_INPUTS = (
    "ORDERS",
    "ROUTED_ORDERS",
    "SHIPMENTS",
    "FULFILLMENT_ORDERS",
    "INVENTORY_LEVELS",
    "STOCK_MOVEMENTS",
    "JOURNAL_ENTRIES",
    "GOLDEN_CUSTOMERS",
)


def egress_env(
    stack: StackEndpoints, state_dir: Path, topics: dict[str, str], **settings: str
) -> dict[str, str]:
    """Egress on the test's topics with every input off but those ``settings`` turn on."""
    inputs_off = {f"EGRESS_{name}_TOPIC": "" for name in _EGRESS_INPUTS}
    return service_env(
        stack,
        state_dir,
        ESB_INSTANCE_ID="0",
        EGRESS_SERVICE_NAME=topics["egress_service"],
        EGRESS_TOPIC_PREFIX=topics["prefix"],
        **{**inputs_off, **settings},
    )


def connector_env(
    stack: StackEndpoints,
    state_dir: Path,
    topics: dict[str, str],
    accounts: dict[str, dict[str, Any]],
    **settings: str,
) -> dict[str, str]:
    """The at-least-once delivery connector on the test's egress topic, for ``accounts``."""
    return service_env(
        stack,
        state_dir,
        ESB_INSTANCE_ID="0",
        ESB_GUARANTEE="at_least_once",
        ESB_COMMIT_INTERVAL_MS="500",
        CONNECTOR_SERVICE_NAME=topics["connector_service"],
        CONNECTOR_TOPICS=json.dumps([topics["egress"]]),
        CONNECTOR_ACCOUNTS=json.dumps(accounts),
        **settings,
    )
