"""A per-account running total: the stateful example the crash tests run.

Consumes ``Amount`` records keyed by account, keeps ``{"total", "count"}`` per account in the
``totals`` store and emits one ``Total`` per amount. Negative amounts are dead-lettered; the
account ``"flaky"`` always fails transiently (it exercises retry-then-dead-letter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.errors import DeadLetterError, RetryableError
from bus.query import Query, StateSnapshot
from bus.serde import AvroCodec
from bus.service import Context, Emit, Event, Handler, Input, Outgoing, Output, Service, StatePut, StoreSpec
from services.examples.running_total.models import AMOUNT_SCHEMA, TOTAL_SCHEMA, Amount, Total

__all__ = ["RunningTotalSettings", "build_service", "make_handler", "total_of"]

STORE = "totals"


class RunningTotalSettings(BaseSettings):
    """Environment: ``RUNNING_TOTAL_*``."""

    model_config = SettingsConfigDict(env_prefix="RUNNING_TOTAL_", frozen=True)

    service_name: str = "running-total"
    input_topic: str = "examples.amounts"
    output_topic: str = "examples.totals"
    flaky_account: str = Field(default="flaky", description="always fails transiently (demonstration)")


def make_handler(output_topic: str, flaky_account: str = "flaky") -> Handler:
    def handle(event: Event[Amount], ctx: Context) -> Sequence[Outgoing]:
        amount = event.value
        if amount.amount < 0:
            raise DeadLetterError(f"negative amount {amount.amount} for account {amount.account}")
        if amount.account == flaky_account:
            raise RetryableError("the flaky account never succeeds")
        before = ctx.state(STORE).get(amount.account) or {"total": 0, "count": 0}
        after = {"total": before["total"] + amount.amount, "count": before["count"] + 1}
        total = Total(
            event_id=amount.event_id,
            account=amount.account,
            amount=amount.amount,
            total=after["total"],
            count=after["count"],
        )
        return [StatePut(STORE, amount.account, after), Emit(output_topic, amount.account, total)]

    return handle


def total_of(params: Mapping[str, str], state: StateSnapshot) -> Any:
    """``GET /totals/{account}``: the account's committed total, or None (404)."""
    total = state.store(STORE).get(params["account"])
    return None if total is None else {"account": params["account"], **total}


def build_service(settings: RunningTotalSettings) -> Service:
    return Service(
        name=settings.service_name,
        inputs=[Input(settings.input_topic, AvroCodec(Amount, AMOUNT_SCHEMA))],
        outputs=[Output(settings.output_topic, AvroCodec(Total, TOTAL_SCHEMA))],
        stores=[StoreSpec(STORE)],
        handler=make_handler(settings.output_topic, settings.flaky_account),
        event_id=lambda value: value.event_id,
        occurred_at=lambda value: value.occurred_at,
        queries=[Query("/totals/{account}", total_of)],
    )
