"""The declarative chart-of-accounts mapping: accounts, legal entities, routing and posting roles.

A rule never names an account: it names a *role* (``accounts_receivable``, ``clearing``...). The chart
maps each role to an account code, with overrides per entity, channel, payment processor, tax
jurisdiction and currency; the most specific matching override wins (the first one on a tie). The
whole file is validated when the service starts: a broken chart stops the process before it posts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "AccountRole",
    "AccountType",
    "Chart",
    "ChartError",
    "Entity",
    "Match",
    "PostingScope",
    "RefundCashSource",
    "SaleTrigger",
    "load_chart",
]

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ChartError(ValueError):
    """The chart-of-accounts file is invalid; the message names the place and the reason."""


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class AccountRole(StrEnum):
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    REVENUE = "revenue"
    SHIPPING_REVENUE = "shipping_revenue"
    TAX_PAYABLE = "tax_payable"
    CLEARING = "clearing"
    PROCESSOR_FEES = "processor_fees"
    BANK = "bank"
    SALES_RETURNS = "sales_returns"
    INVENTORY = "inventory"
    COGS = "cogs"
    CHARGEBACKS = "chargebacks"
    CHARGEBACK_FEES = "chargeback_fees"
    GIFT_CARD_LIABILITY = "gift_card_liability"
    ROUNDING = "rounding"


_ROLE_TYPES: dict[AccountRole, frozenset[AccountType]] = {
    AccountRole.ACCOUNTS_RECEIVABLE: frozenset({AccountType.ASSET}),
    AccountRole.REVENUE: frozenset({AccountType.REVENUE}),
    AccountRole.SHIPPING_REVENUE: frozenset({AccountType.REVENUE}),
    AccountRole.TAX_PAYABLE: frozenset({AccountType.LIABILITY}),
    AccountRole.CLEARING: frozenset({AccountType.ASSET}),
    AccountRole.PROCESSOR_FEES: frozenset({AccountType.EXPENSE}),
    AccountRole.BANK: frozenset({AccountType.ASSET}),
    AccountRole.SALES_RETURNS: frozenset({AccountType.REVENUE}),
    AccountRole.INVENTORY: frozenset({AccountType.ASSET}),
    AccountRole.COGS: frozenset({AccountType.EXPENSE}),
    AccountRole.CHARGEBACKS: frozenset({AccountType.EXPENSE}),
    AccountRole.CHARGEBACK_FEES: frozenset({AccountType.EXPENSE}),
    AccountRole.GIFT_CARD_LIABILITY: frozenset({AccountType.LIABILITY}),
    AccountRole.ROUNDING: frozenset({AccountType.EXPENSE, AccountType.REVENUE}),
}


class SaleTrigger(StrEnum):
    """When the sale (invoice) entry is posted."""

    PLACED = "placed"
    FULFILLED = "fulfilled"


class RefundCashSource(StrEnum):
    """Which event posts a refund's cash side: the processor's refund or the channel's refund document."""

    PAYMENTS = "payments"
    RETURNS = "returns"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Account(_Strict):
    name: str
    type: AccountType


class Entity(_Strict):
    """A legal entity (ERP subsidiary / company) with its own books."""

    functional_currency: str
    timezone: str = Field(default="UTC", description="the books' day boundary")
    closed_through: str | None = Field(
        default=None, description="YYYY-MM: this and earlier periods are closed"
    )
    closed_periods: tuple[str, ...] = Field(default=(), description="further closed YYYY-MM periods")
    sale_trigger: SaleTrigger = SaleTrigger.PLACED
    rounding_tolerance: Decimal = Field(
        default=Decimal("0.05"), ge=0, description="largest source-total difference booked to rounding"
    )
    max_rate_age_days: int = Field(default=7, ge=0, description="oldest daily rate accepted for a date")

    @field_validator("functional_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not _CURRENCY.match(value):
            raise ValueError(f"not an ISO 4217 code: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("closed_through")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None and not _PERIOD.match(value):
            raise ValueError(f"period must be YYYY-MM, got {value!r}")
        return value

    @field_validator("closed_periods")
    @classmethod
    def _periods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for period in value:
            if not _PERIOD.match(period):
                raise ValueError(f"period must be YYYY-MM, got {period!r}")
        return value


class Match(_Strict):
    """Conditions on the posting scope; unset conditions match anything."""

    entity: str | None = None
    channel: str | None = None
    account: str | None = Field(default=None, description="shop / merchant account within the channel")
    processor: str | None = None
    jurisdiction: str | None = None
    currency: str | None = None

    @property
    def specificity(self) -> int:
        return sum(value is not None for value in self.model_dump().values())

    def fits(self, scope: PostingScope) -> bool:
        wanted = self.model_dump(exclude_none=True)
        actual = scope.model_dump()
        return all(actual.get(key) == value for key, value in wanted.items())


class PostingScope(_Strict):
    """What a posting is about: the keys the chart's routing and overrides match on."""

    entity: str | None = None
    channel: str | None = None
    account: str | None = None
    processor: str | None = None
    jurisdiction: str | None = None
    currency: str | None = None

    def with_(self, **changes: str | None) -> PostingScope:
        return self.model_copy(update=changes)


class Route(_Strict):
    match: Match = Field(default_factory=Match)
    entity: str


class Override(_Strict):
    match: Match
    accounts: dict[AccountRole, str]


class ChannelPolicy(_Strict):
    refund_cash_from: RefundCashSource = RefundCashSource.PAYMENTS


class Chart(_Strict):
    version: Literal[1]
    accounts: dict[str, Account]
    entities: dict[str, Entity]
    routing: tuple[Route, ...]
    defaults: dict[AccountRole, str]
    overrides: tuple[Override, ...] = ()
    channels: dict[str, ChannelPolicy] = Field(default_factory=dict)
    gift_card_methods: frozenset[str] = frozenset({"gift_card", "store_credit"})

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        missing = sorted(set(AccountRole) - set(self.defaults))
        if missing:
            problems.append(f"defaults: no account for roles {missing}")
        placements = [("defaults", self.defaults)] + [
            (f"overrides[{i}]", o.accounts) for i, o in enumerate(self.overrides)
        ]
        for where, mapping in placements:
            problems += self._check_accounts(where, mapping)
        for i, route in enumerate(self.routing):
            if route.entity not in self.entities:
                problems.append(f"routing[{i}]: unknown entity {route.entity!r}")
        seen: dict[str, int] = {}
        for i, override in enumerate(self.overrides):
            if override.match.entity is not None and override.match.entity not in self.entities:
                problems.append(f"overrides[{i}]: unknown entity {override.match.entity!r}")
            key = override.match.model_dump_json()
            if key in seen:
                problems.append(f"overrides[{i}]: same match as overrides[{seen[key]}]")
            seen[key] = i
        if not self.routing:
            problems.append("routing: at least one route is needed")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_accounts(self, where: str, mapping: Mapping[AccountRole, str]) -> list[str]:
        problems = []
        for role, code in mapping.items():
            account = self.accounts.get(code)
            if account is None:
                problems.append(f"{where}.{role}: unknown account {code!r}")
            elif account.type not in _ROLE_TYPES[role]:
                allowed = sorted(str(t) for t in _ROLE_TYPES[role])
                problems.append(
                    f"{where}.{role}: account {code} is {account.type}, expected one of {allowed}"
                )
        return problems

    # -- lookups ---------------------------------------------------------------------------------
    def entity_for(self, scope: PostingScope) -> str | None:
        """The legal entity that books ``scope`` (first matching route), or None."""
        for route in self.routing:
            if route.match.fits(scope):
                return route.entity
        return None

    def account_for(self, role: AccountRole, scope: PostingScope) -> str:
        """The account of ``role`` in ``scope``: the most specific matching override, else the default."""
        best: tuple[int, str] | None = None
        for override in self.overrides:
            code = override.accounts.get(role)
            if code is None or not override.match.fits(scope):
                continue
            if best is None or override.match.specificity > best[0]:
                best = (override.match.specificity, code)
        return self.defaults[role] if best is None else best[1]

    def refund_cash_from(self, channel: str) -> RefundCashSource:
        policy = self.channels.get(channel)
        return RefundCashSource.PAYMENTS if policy is None else policy.refund_cash_from


def load_chart(path: Path) -> Chart:
    """Read and validate a chart file; raises :class:`ChartError` with every problem found."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ChartError(f"{path}: cannot read the chart: {exc}") from exc
    try:
        return Chart.model_validate(data)
    except ValidationError as exc:
        raise ChartError(f"{path}: invalid chart of accounts:\n{exc}") from exc
