"""Settings of ``esb ingest``. Environment: ``INGEST_TOPIC_PREFIX``, ``INGEST_MAX_RECORD_BYTES``..."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["IngestSettings"]


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", frozen=True)

    topic_prefix: str = ""
    # Below the broker's default message.max.bytes (1 MiB) with room for headers.
    max_record_bytes: int = Field(default=900_000, gt=1024)
    delivery_timeout_ms: int = Field(default=30_000, gt=0)
