"""The translator's declaration: every supported ingress topic in, every canonical topic out."""

from __future__ import annotations

from bus.serde import AvroCodec, BytesCodec
from bus.service import Input, Output, Service, StoreSpec
from schemas.loader import schema_text
from services.translator.handler import SEEN_STORE, make_handler
from services.translator.registry import all_routes
from services.translator.routing import DESTINATIONS
from services.translator.settings import TranslatorSettings

__all__ = ["build_service", "ingress_topics"]


def ingress_topics(settings: TranslatorSettings) -> list[str]:
    if settings.input_topics is not None:
        return list(settings.input_topics)
    return sorted(f"{settings.topic_prefix}ingress.{system}.{entity}" for system, entity in all_routes())


def build_service(settings: TranslatorSettings) -> Service:
    routes = all_routes()
    outputs = [
        Output(settings.topic_prefix + destination.topic, AvroCodec(model, schema_text(model.avro_name())))
        for model, destination in DESTINATIONS.items()
    ]
    return Service(
        name=settings.service_name,
        inputs=[Input(topic, BytesCodec()) for topic in ingress_topics(settings)],
        outputs=outputs,
        stores=[StoreSpec(SEEN_STORE, ttl=settings.dedupe_ttl)],
        handler=make_handler(routes, settings.topic_prefix, settings.locations),
    )
