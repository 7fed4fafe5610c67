"""The translator's declaration: every supported ingress topic in, every canonical topic out."""

from __future__ import annotations

import structlog

from bus.serde import AvroCodec, BytesCodec
from bus.service import Input, Output, Service, StoreSpec
from schemas.loader import schema_text
from services.translator.handler import SEEN_STORE, make_handler
from services.translator.metrics import TranslatorMetrics
from services.translator.registry import all_fast_routes, all_routes
from services.translator.routing import output_topics
from services.translator.settings import TranslatorSettings

__all__ = ["build_service", "ingress_topics"]


def ingress_topics(settings: TranslatorSettings) -> list[str]:
    if settings.input_topics is not None:
        return list(settings.input_topics)
    return sorted(f"{settings.topic_prefix}ingress.{system}.{entity}" for system, entity in all_routes())


def build_service(settings: TranslatorSettings) -> Service:
    routes = all_routes()
    fast_routes = all_fast_routes() if settings.native != "off" else {}
    if settings.native != "off" and not fast_routes:
        structlog.get_logger(settings.service_name).warning(
            "compiled fast paths unavailable (esb_native is not installed): the adapters translate everything"
        )
    outputs = [
        Output(settings.topic_prefix + topic, AvroCodec(model, schema_text(model.avro_name())))
        for model, topic in output_topics()
    ]
    return Service(
        name=settings.service_name,
        inputs=[Input(topic, BytesCodec()) for topic in ingress_topics(settings)],
        outputs=outputs,
        stores=[StoreSpec(SEEN_STORE, ttl=settings.dedupe_ttl)],
        handler=make_handler(
            routes,
            settings.topic_prefix,
            settings.locations,
            fast_routes=fast_routes,
            verify_fast=settings.native == "verify",
        ),
        metrics=[TranslatorMetrics()],
    )
