"""Configuration of the order router. Environment prefix ``ORDER_ROUTER_``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_RULES", "RouterSettings"]

DEFAULT_RULES = Path(__file__).resolve().parent / "routing_rules.yaml"


class RouterSettings(BaseSettings):
    """One frozen object per process, built in ``main()``."""

    model_config = SettingsConfigDict(env_prefix="ORDER_ROUTER_", frozen=True)

    service_name: str = "order-router"
    orders_topic: str = "canonical.orders.v1"
    levels_topic: str = "canonical.inventory-levels.v1"
    reservations_topic: str = "canonical.reservations.v1"
    reservations_by_sku_topic: str = Field(
        default="canonical.reservations.v2",
        description="the same reservation events keyed by SKU (the inventory projector's input)",
    )
    fulfillment_topic: str = "canonical.fulfillment-orders.v1"
    routed_topic: str = "canonical.routed-orders.v1"
    by_sku_topic: str = Field(
        default="order-router.by-sku.repartition",
        description="internal, keyed by SKU; as many partitions as the orders topic",
    )
    by_order_topic: str = Field(
        default="order-router.by-order.repartition",
        description="internal, keyed by order id; as many partitions as the orders topic",
    )
    rules_path: Path = DEFAULT_RULES
    request_ttl_days: int = Field(default=35, ge=1, description="how long a handled command id is remembered")

    @property
    def request_ttl(self) -> timedelta:
        return timedelta(days=self.request_ttl_days)
