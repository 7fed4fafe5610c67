"""The ledger poster's settings. Environment: ``LEDGER_POSTER_*``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_CHART", "LedgerPosterSettings"]

DEFAULT_CHART = Path(str(files("services.ledger_poster").joinpath("chart_of_accounts.yaml")))


class LedgerPosterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_POSTER_", frozen=True)

    service_name: str = "ledger-poster"
    chart_path: Path = Field(default=DEFAULT_CHART, description="chart-of-accounts mapping (YAML)")
    orders_topic: str = "canonical.orders.v1"
    payments_topic: str = "canonical.payments.v1"
    returns_topic: str = "canonical.returns.v1"
    rates_topic: str = "canonical.fx-rates.v1"
    entries_topic: str = "canonical.journal-entries.v1"
    settlement_topic: str = "ledger-poster.by-settlement-account.repartition"
    reconciliations_topic: str = "canonical.payout-reconciliations.v1"
    query_port: int | None = Field(
        default=None, description="opens the runtime's ops port (trial balance) when ESB_HTTP_PORT is unset"
    )
    query_host: str = "0.0.0.0"  # noqa: S104 - queried from outside the pod
