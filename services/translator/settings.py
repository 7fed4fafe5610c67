"""Translator settings. Environment: ``TRANSLATOR_*``."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TranslatorSettings"]


class TranslatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSLATOR_", frozen=True)

    service_name: str = "translator"
    topic_prefix: str = Field(default="", description="prefix of every topic name (isolated test runs)")
    input_topics: list[str] | None = Field(
        default=None, description="ingress topics to consume; default: one per supported system.entity"
    )
    locations: dict[str, str] = Field(
        default_factory=dict,
        description='source location -> enterprise code, e.g. {"magento:WH-US-EAST": "WH-US-EAST"}',
    )
    dedupe_ttl: timedelta = Field(
        default=timedelta(days=7), description="how long provider event ids are kept"
    )
    native: Literal["on", "off", "verify"] = Field(
        default="on",
        description=(
            "compiled fast paths (esb_native): on; off (the adapters translate everything); verify (both "
            "run, a difference is logged as an error and the adapter's events are emitted)"
        ),
    )
