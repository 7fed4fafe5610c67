"""The egress broker tests' service environments, and what they inspect afterwards."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from esb.devstack.stack import StackEndpoints
from tests.integration.runtime.harness import service_env

__all__ = ["connector_env", "egress_env", "read_dlq", "service_logs"]

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


def read_dlq(stack: StackEndpoints, service: str) -> list[Any]:
    """The committed dead letters of ``service`` so far."""
    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": f"dlq-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "allow.auto.create.topics": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        consumer.subscribe([f"dlq.{service}"])
        return [m for m in consumer.consume(100, timeout=5) if m.error() is None]
    finally:
        consumer.close()


def service_logs(folder: Path) -> str:
    """The tail of every service log in ``folder``, for assertion messages."""
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in folder.glob("*.log"))
