"""The example's records, mirroring ``amount.avsc`` and ``total.avsc``."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from pydantic import BaseModel, ConfigDict

__all__ = ["AMOUNT_SCHEMA", "TOTAL_SCHEMA", "Amount", "Total"]

AMOUNT_SCHEMA = files(__package__).joinpath("amount.avsc").read_text()
TOTAL_SCHEMA = files(__package__).joinpath("total.avsc").read_text()


class Amount(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    account: str
    amount: int
    occurred_at: datetime


class Total(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    account: str
    amount: int
    total: int
    count: int
