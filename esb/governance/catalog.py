"""The topic catalog (``catalog/topics.yaml``): every topic, its settings, schemas, owner and consumers."""

from __future__ import annotations

from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_CATALOG_PATH",
    "Catalog",
    "CatalogDefaults",
    "KeySpec",
    "TopicSpec",
    "ValueSpec",
    "load_catalog",
]

DEFAULT_CATALOG_PATH = Path("catalog/topics.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KeySpec(_Strict):
    """Keys are UTF-8 strings (canonical ids for canonical topics), never registry-encoded."""

    description: str


class ValueSpec(_Strict):
    """Exactly one of: an Avro record registered under ``<topic>-value``, or a native media type."""

    avro: str | None = Field(default=None, description="full name of the value record")
    format: str | None = Field(default=None, description="media type of native payloads")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.avro is None) == (self.format is None):
            raise ValueError("a value has either `avro` or `format`")
        return self


class CatalogDefaults(_Strict):
    partitions: int = Field(default=12, ge=1)
    replication_factor: int = Field(default=3, ge=1)
    config: dict[str, str] = Field(default_factory=dict)


class TopicSpec(_Strict):
    name: str = Field(pattern=r"^[a-zA-Z0-9._-]+$")
    description: str
    partitions: int | None = Field(default=None, ge=1)
    replication_factor: int | None = Field(default=None, ge=1)
    cleanup_policy: str = Field(default="delete", pattern=r"^(delete|compact|compact,delete)$")
    retention_ms: int | None = Field(
        default=None, ge=-1, description="-1 keeps forever; null: broker default"
    )
    config: dict[str, str] = Field(default_factory=dict)
    key: KeySpec
    value: ValueSpec
    owner: str
    consumers: list[str] = Field(default_factory=list)

    def avro_value(self) -> tuple[str, str]:
        """(subject, record full name) of an Avro-valued topic."""
        if self.value.avro is None:
            raise ValueError(f"{self.name} has no Avro value")
        return f"{self.name}-value", self.value.avro

    @property
    def value_subject(self) -> str | None:
        """TopicNameStrategy subject of the value schema, if the value is Avro."""
        return f"{self.name}-value" if self.value.avro is not None else None


class Catalog(_Strict):
    defaults: CatalogDefaults = Field(default_factory=CatalogDefaults)
    topics: list[TopicSpec]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [t.name for t in self.topics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"topics listed twice: {duplicates}")
        return self

    def partitions(self, topic: TopicSpec) -> int:
        return topic.partitions or self.defaults.partitions

    def replication_factor(self, topic: TopicSpec) -> int:
        return topic.replication_factor or self.defaults.replication_factor

    def topic_config(self, topic: TopicSpec) -> dict[str, str]:
        """The broker-side configs the catalog manages for ``topic`` (defaults, then the topic's own)."""
        config = {**self.defaults.config, "cleanup.policy": topic.cleanup_policy}
        if topic.retention_ms is not None:
            config["retention.ms"] = str(topic.retention_ms)
        config.update(topic.config)
        return config

    def avro_topics(self) -> list[TopicSpec]:
        return [t for t in self.topics if t.value.avro is not None]

    def topic(self, name: str) -> TopicSpec:
        for spec in self.topics:
            if spec.name == name:
                return spec
        raise KeyError(f"no topic {name} in the catalog")

    def for_environment(self, *, prefix: str = "", replication_factor: int | None = None) -> Catalog:
        """The same catalog with renamed topics (tests, shared clusters) and/or a replication override.

        A replication override also caps ``min.insync.replicas`` so that ``acks=all`` stays writable.
        """
        defaults = self.defaults
        topics = [t.model_copy(update={"name": prefix + t.name}) for t in self.topics]
        if replication_factor is not None:
            config = dict(defaults.config)
            if "min.insync.replicas" in config:
                config["min.insync.replicas"] = str(
                    min(int(config["min.insync.replicas"]), replication_factor)
                )
            defaults = defaults.model_copy(
                update={"replication_factor": replication_factor, "config": config}
            )
            topics = [t.model_copy(update={"replication_factor": None}) for t in topics]
        return Catalog(defaults=defaults, topics=topics)


def load_catalog(path: Path = DEFAULT_CATALOG_PATH) -> Catalog:
    with path.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))
