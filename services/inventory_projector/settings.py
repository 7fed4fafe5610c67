"""Configuration of the inventory projector: topics, channels, safety stock, coalescing, alerts.

Environment prefix ``INVENTORY_PROJECTOR_``; maps are JSON, e.g.
``INVENTORY_PROJECTOR_CHANNELS='{"web": {"locations": ["WH1", "WH2"], "buffer": 2}}'`` and
``INVENTORY_PROJECTOR_SAFETY_STOCK='{"WH1": 2, "SKU-1@WH1": 5}'``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ChannelConfig", "ProjectorSettings"]


class ChannelConfig(BaseModel):
    """A sales channel: the locations that fulfil its orders and the units it always holds back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    locations: tuple[str, ...] = Field(min_length=1)
    buffer: int = Field(default=0, ge=0)


class ProjectorSettings(BaseSettings):
    """One frozen object per process, built in ``main()``."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_PROJECTOR_", frozen=True)

    service_name: str = "inventory-projector"
    movements_topic: str = Field(
        default="canonical.stock-movements.v2", description="keyed by SKU; as many partitions as reservations"
    )
    reservations_topic: str = Field(default="canonical.reservations.v2", description="keyed by SKU")
    levels_topic: str = "canonical.inventory-levels.v1"
    channel_topic: str = "canonical.channel-availability.v1"
    alerts_topic: str = "canonical.inventory-alerts.v1"
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    safety_stock_default: int = Field(default=0, ge=0)
    safety_stock: dict[str, int] = Field(
        default_factory=dict, description="'<location>' or '<sku>@<location>' -> units (the latter wins)"
    )
    coalesce_interval_ms: int = Field(
        default=1000, ge=0, description="at most one channel update per SKU and channel per interval"
    )
    drift_threshold: int = Field(default=0, ge=0, description="|counted - expected| above this alerts")
    reorder_window_ms: int = Field(
        default=24 * 3600 * 1000,
        ge=0,
        description="how much older than the newest movement a count may be and still be re-based exactly",
    )
    reorder_max_buckets: int = Field(
        default=128, ge=1, description="per position, distinct movement instants kept for re-basing counts"
    )
    dedupe_ttl_days: int = Field(default=35, ge=1, description="how long a movement id is remembered")
    reservation_ttl_days: int = Field(default=35, ge=1, description="how long a reservation is remembered")
    query_host: str = "0.0.0.0"  # noqa: S104 - queried by other pods
    query_port: int | None = Field(
        default=None,
        description="the ops port (GET /atp/...) when ESB_HTTP_PORT is unset; prefer ESB_HTTP_PORT",
    )

    def safety_stock_for(self, sku: str, location: str) -> int:
        specific = self.safety_stock.get(f"{sku}@{location}")
        if specific is not None:
            return specific
        return self.safety_stock.get(location, self.safety_stock_default)
