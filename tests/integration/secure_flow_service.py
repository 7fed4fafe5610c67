"""A tiny bus service for the secure-stack tests: Shopify order webhooks in, order notes out.

It logs carelessly on purpose (the raw ingress body, a card number, a password) so that the test can
show the log redaction at work in a real process. Run as ``python -m tests.integration.secure_flow_service``
with ``FLOW_OUTPUT_TOPIC`` and the usual ``KAFKA_*`` / ``ESB_*`` environment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.observability.redaction import Redactor
from bus.runtime import run_service
from bus.serde import BytesCodec, JsonCodec
from bus.service import Context, Emit, Event, Input, Outgoing, Output, Service

SERVICE = "order-notes"
INPUT_TOPIC = "ingress.shopify.orders"
# What a careless handler might log; the test looks for both in the captured logs.
LEAKED_CARD = "5555 5555 5555 4444"
LEAKED_PASSWORD = "Tr0ub4dor-and-3-horses"


class FlowSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOW_", frozen=True)

    output_topic: str


class OrderNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    total_price: str
    note: str


def _handle(output_topic: str) -> Any:
    def handle(event: Event[bytes], ctx: Context) -> Sequence[Outgoing]:
        order = json.loads(event.value)
        detail = "retrying charge on card " + LEAKED_CARD + " with password=" + LEAKED_PASSWORD
        ctx.log.info("order received", body=event.value.decode(), detail=detail, db_password=LEAKED_PASSWORD)
        note = OrderNote(
            order_id=str(order["id"]),
            total_price=str(order.get("total_price", "")),
            note=order.get("note") or "",
        )
        return [Emit(output_topic, str(order["id"]), note)]

    return handle


def _ensure_redaction() -> None:
    """Until the runtime's logging setup includes the redactor, add it in front of the renderer."""
    processors = list(structlog.get_config()["processors"])
    if not any(isinstance(p, Redactor) for p in processors):
        processors.insert(len(processors) - 1, Redactor())
        structlog.configure(processors=processors)


def main() -> None:
    settings = BusSettings()
    configure_logging(settings.runtime.log_level, settings.runtime.log_json)
    _ensure_redaction()
    output = FlowSettings().output_topic  # type: ignore[call-arg]
    service = Service(
        name=SERVICE,
        inputs=[Input(INPUT_TOPIC, BytesCodec())],
        outputs=[Output(output, JsonCodec(OrderNote))],
        handler=_handle(output),
    )
    run_service(service, settings)


if __name__ == "__main__":
    main()
