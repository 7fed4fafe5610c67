"""Maps each ``Amount`` to a ``Scaled`` record: the stateless Avro->Avro benchmark workload.

Its input schema is a private copy of the running-total example's (services share only
``schemas/`` and ``bus/``, never each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib.resources import files

from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.serde import AvroCodec
from bus.service import Context, Emit, Event, Handler, Input, Outgoing, Output, Service

__all__ = ["SCALED_SCHEMA", "Amount", "AvroMapSettings", "Scaled", "build_service", "make_handler"]

AMOUNT_SCHEMA = files(__package__).joinpath("amount.avsc").read_text()
SCALED_SCHEMA = files(__package__).joinpath("scaled.avsc").read_text()


class Amount(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    account: str
    amount: int
    occurred_at: datetime


class Scaled(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    account: str
    amount: int
    scaled: int


class AvroMapSettings(BaseSettings):
    """Environment: ``AVRO_MAP_*``."""

    model_config = SettingsConfigDict(env_prefix="AVRO_MAP_", frozen=True)

    service_name: str = "avro-map"
    input_topic: str = "examples.amounts"
    output_topic: str = "examples.scaled"
    factor: int = 100


def make_handler(output_topic: str, factor: int) -> Handler:
    def handle(event: Event[Amount], ctx: Context) -> Sequence[Outgoing]:
        value = event.value
        scaled = Scaled(
            event_id=value.event_id, account=value.account, amount=value.amount, scaled=value.amount * factor
        )
        return [Emit(output_topic, event.key, scaled)]

    return handle


def build_service(settings: AvroMapSettings) -> Service:
    return Service(
        name=settings.service_name,
        inputs=[Input(settings.input_topic, AvroCodec(Amount, AMOUNT_SCHEMA))],
        outputs=[Output(settings.output_topic, AvroCodec(Scaled, SCALED_SCHEMA))],
        handler=make_handler(settings.output_topic, settings.factor),
        event_id=lambda value: value.event_id,
        occurred_at=lambda value: value.occurred_at,
    )
