"""The routing rules file: a declarative, versioned YAML document validated when the service starts.

```yaml
version: "2026-01-15.1"          # any string; stamped on every routed-order event
policy: ranked                     # default allocation policy: ranked | fewest_shipments
holds:                             # an order matching any of these is parked until it clears
  financial_statuses: [PENDING]
  tags: [fraud-hold]
  attributes: {fraud_risk: high}
b2b:                               # how an order is recognised as B2B
  tags: [b2b, wholesale]
  company_on_billing_address: true
rules:                             # evaluated in order; the first match wins (see matching.py)
  - id: eu-b2b
    when: {countries: [DE, FR], b2b: true}
    erp_entity: EU-SUB
    locations: [WH-DE, WH-NL]
  - id: default
    default: true
    erp_entity: US-SUB
    locations: [WH-US-EAST, WH-US-WEST]
```

Errors name the place and the reason (``rules[2] (id 'eu-b2b').when.sku_patterns[0]: ...``).
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.orders.models import FinancialStatus

__all__ = [
    "B2BDetection",
    "HoldPolicy",
    "Match",
    "Policy",
    "Rule",
    "RulesError",
    "RulesFile",
    "load_rules",
    "parse_rules",
]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$")


class RulesError(ValueError):
    """The routing rules file is invalid; the message names the place and the reason."""


class Policy(StrEnum):
    RANKED = "ranked"
    FEWEST_SHIPMENTS = "fewest_shipments"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Match(_Strict):
    """Conditions of a rule; all given ones must hold, each list matches any of its items."""

    channels: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    countries: tuple[str, ...] = Field(default=(), description="ship-to ISO 3166-1 alpha-2")
    regions: tuple[str, ...] = Field(default=(), description="ship-to region code (US-CA) or name")
    skus: tuple[str, ...] = Field(default=(), description="line-level: exact SKUs")
    sku_patterns: tuple[str, ...] = Field(default=(), description="line-level: shell patterns, HAZ-*")
    product_tags: tuple[str, ...] = Field(
        default=(), description="line-level: any of the line's 'product_tags' property (comma separated)"
    )
    order_tags: tuple[str, ...] = ()
    min_value: Decimal | None = Field(default=None, description="order total, shop currency, inclusive")
    max_value: Decimal | None = Field(default=None, description="order total, shop currency, exclusive")
    b2b: bool | None = None
    financial_statuses: tuple[FinancialStatus, ...] = ()

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"country {code!r} is not an upper-case ISO 3166-1 alpha-2 code")
        return value

    @field_validator("sku_patterns")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not pattern.strip():
                raise ValueError("an empty SKU pattern matches nothing")
            re.compile(fnmatch.translate(pattern))
        return value

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min_value is not None and self.max_value is not None and self.min_value >= self.max_value:
            raise ValueError(f"min_value {self.min_value} must be below max_value {self.max_value}")
        return self

    @property
    def empty(self) -> bool:
        return self == Match()

    @property
    def line_level(self) -> bool:
        return bool(self.skus or self.sku_patterns or self.product_tags)


class Rule(_Strict):
    id: str = Field(min_length=1)
    when: Match = Match()
    default: bool = False
    erp_entity: str | None = Field(default=None, description="None: this rule does not decide the entity")
    locations: tuple[str, ...] | None = Field(
        default=None, description="ranked, best first; None: this rule does not decide locations"
    )
    policy: Policy | None = Field(default=None, description="overrides the file's policy for its lines")

    @field_validator("id", "erp_entity")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.fullmatch(value):
            raise ValueError(f"{value!r} must be a code: letters, digits and _.:@/- without spaces")
        return value

    @field_validator("locations")
    @classmethod
    def _locations(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("locations must not be empty (leave it out to not decide locations)")
        for code in value:
            if not _CODE.fullmatch(code):
                raise ValueError(f"location {code!r} must be a code without spaces")
        if len(set(value)) != len(value):
            raise ValueError(f"a location is listed twice in {list(value)}")
        return value

    @model_validator(mode="after")
    def _decides_something(self) -> Self:
        if self.erp_entity is None and self.locations is None:
            raise ValueError("a rule must decide erp_entity, locations or both")
        if self.default:
            if not self.when.empty:
                raise ValueError("the default rule matches every order: it takes no 'when'")
            if self.erp_entity is None or self.locations is None:
                raise ValueError("the default rule must decide both erp_entity and locations")
        return self


class HoldPolicy(_Strict):
    """An order is parked while any condition holds; it is routed by the update that clears it."""

    financial_statuses: tuple[FinancialStatus, ...] = (FinancialStatus.PENDING,)
    tags: tuple[str, ...] = ("fraud-hold",)
    attributes: dict[str, str] = Field(default_factory=dict, description="attribute name -> value that holds")


class B2BDetection(_Strict):
    tags: tuple[str, ...] = ("b2b", "wholesale")
    company_on_billing_address: bool = True


class RulesFile(_Strict):
    version: str = Field(min_length=1)
    policy: Policy = Policy.RANKED
    holds: HoldPolicy = HoldPolicy()
    b2b: B2BDetection = B2BDetection()
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_default_last(self) -> Self:
        ids = [rule.id for rule in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids must be unique, repeated: {twice}")
        defaults = [index for index, rule in enumerate(self.rules) if rule.default]
        if not defaults:
            raise ValueError("a default rule is required (the last rule, with 'default: true')")
        if defaults != [len(self.rules) - 1]:
            raise ValueError("exactly one default rule, and it must be the last rule")
        return self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _place(loc: tuple[int | str, ...], data: object) -> str:
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            label = None
            if isinstance(node, list) and 0 <= step < len(node) and isinstance(node[step], dict):
                label = node[step].get("id")
            if label is not None:
                parts.append(f" (id {label!r})")
        else:
            parts.append(f".{step}" if parts else step)
        if isinstance(node, dict | list):
            try:
                node = node[step]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                node = None
    return "".join(parts) or "(file)"


def parse_rules(text: str, source: str = "<rules>") -> RulesFile:
    """Validate a rules document; :class:`RulesError` lists every problem with its place."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a mapping with 'version' and 'rules'")
    try:
        return RulesFile.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_place(tuple(e['loc']), data)}: {e['msg']}" for e in exc.errors()]
        raise RulesError(f"{source}: invalid routing rules:\n  " + "\n  ".join(problems)) from None


def load_rules(path: Path) -> RulesFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read routing rules {path}: {exc}") from exc
    return parse_rules(text, str(path))
