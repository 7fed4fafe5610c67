"""Configuration of the customer merger: topics, thresholds, survivorship, normalisation rules.

One frozen object per process, built in ``main()`` from ``CUSTOMER_MERGER_*`` environment variables
(nested values such as ``CUSTOMER_MERGER_SOURCE_PRIORITY`` are JSON).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "GOLDEN_FIELDS",
    "CustomerMergerSettings",
    "EmailRules",
    "MatchSettings",
    "Role",
    "SurvivorshipRule",
]


class Role(StrEnum):
    """What one process runs: the parallel forwarder, the single matcher, or both."""

    FORWARD = "forward"
    MATCH = "match"
    ALL = "all"


class SurvivorshipRule(StrEnum):
    """How a golden record's field is chosen among its members' values."""

    SOURCE_PRIORITY = "source_priority"  # the most trusted system wins; recency breaks ties
    MOST_RECENT = "most_recent"  # the most recently updated member wins; priority breaks ties
    MOST_COMPLETE = "most_complete"  # the fullest value wins (longest name, most address parts)


GOLDEN_FIELDS = ("email", "phone", "first_name", "last_name", "company", "addresses")


class EmailRules(BaseSettings):
    """Provider rules: which mailboxes ignore a ``+tag`` or dots in the local part, and domain aliases."""

    model_config = SettingsConfigDict(frozen=True)

    plus_tag_domains: frozenset[str] = frozenset(
        {
            "gmail.com",
            "googlemail.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "icloud.com",
            "me.com",
            "fastmail.com",
            "proton.me",
            "protonmail.com",
        }
    )
    dotless_domains: frozenset[str] = frozenset({"gmail.com", "googlemail.com"})
    domain_aliases: dict[str, str] = Field(default_factory=lambda: {"googlemail.com": "gmail.com"})
    relay_domains: frozenset[str] = Field(
        default=frozenset({"marketplace.amazon.com", "marketplace.amazon.co.uk", "marketplace.amazon.de",
                           "marketplace.amazon.fr", "marketplace.amazon.it", "marketplace.amazon.es",
                           "marketplace.amazon.ca", "privaterelay.appleid.com"}),
        description="per-buyer relay addresses: a key when equal, no evidence when different",
    )  # fmt: skip

    def is_relay(self, email: str | None) -> bool:
        return email is not None and email.rpartition("@")[2] in self.relay_domains


class MatchSettings(BaseSettings):
    """Decision thresholds on the match weight (sum of log2 likelihood ratios of the field levels)."""

    model_config = SettingsConfigDict(frozen=True)

    match_weight: float = Field(default=14.0, description="at or above: the same person")
    review_weight: float = Field(default=11.0, description="at or above (and below match): held for review")
    household_guard: bool = Field(
        default=True,
        description="a first name that differs slightly needs a matching email, not only address/phone",
    )
    max_block_size: int = Field(
        default=200, ge=2, description="a blocking key shared by more records is not discriminating"
    )
    max_candidates: int = Field(default=400, ge=1, description="candidate source records compared per input")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.review_weight > self.match_weight:
            raise ValueError("review_weight must not exceed match_weight")
        return self


class CustomerMergerSettings(BaseSettings):
    """Environment: ``CUSTOMER_MERGER_*``."""

    model_config = SettingsConfigDict(env_prefix="CUSTOMER_MERGER_", env_nested_delimiter="__", frozen=True)

    service_name: str = "customer-merger"
    role: Role = Role.ALL
    customers_topic: str = "canonical.customers.v1"
    orders_topic: str = "canonical.orders.v1"
    erasure_topic: str = "canonical.erasure-requests.v1"
    steward_topic: str = "canonical.customer-steward-commands.v1"
    match_topic: str = Field(
        default="customer-merger.match.repartition",
        description="internal, ONE partition: every normalised input in one order, the matcher's input",
    )
    golden_topic: str = "canonical.golden-customers.v1"
    crosswalk_topic: str = "canonical.customer-crosswalk.v1"
    merges_topic: str = "canonical.customer-merges.v1"
    reviews_topic: str = "canonical.customer-match-reviews.v1"

    default_region: str = Field(default="US", description="ISO 3166 region for phones without a country code")
    account_regions: dict[str, str] = Field(
        default_factory=dict, description="shop/account -> ISO region, overrides default_region"
    )
    email: EmailRules = Field(default_factory=EmailRules)
    match: MatchSettings = Field(default_factory=MatchSettings)
    source_priority: dict[str, int] = Field(
        default_factory=lambda: {
            "netsuite": 90,
            "sap": 90,
            "business-central": 90,
            "shopify": 60,
            "woocommerce": 55,
            "bigcommerce": 55,
            "pos": 50,
            "amazon": 30,
        },
        description="system -> trust (higher wins); unknown systems count 0",
    )
    survivorship: dict[str, SurvivorshipRule] = Field(
        default_factory=lambda: {
            "email": SurvivorshipRule.MOST_RECENT,
            "phone": SurvivorshipRule.MOST_RECENT,
            "first_name": SurvivorshipRule.MOST_COMPLETE,
            "last_name": SurvivorshipRule.SOURCE_PRIORITY,
            "company": SurvivorshipRule.SOURCE_PRIORITY,
            "addresses": SurvivorshipRule.MOST_RECENT,
        }
    )

    @model_validator(mode="after")
    def _known_fields(self) -> Self:
        unknown = set(self.survivorship) - set(GOLDEN_FIELDS)
        if unknown:
            raise ValueError(f"survivorship for unknown fields {sorted(unknown)}; known: {GOLDEN_FIELDS}")
        return self

    def region_for(self, account: str | None) -> str:
        if account is not None and account in self.account_regions:
            return self.account_regions[account]
        return self.default_region

    def rule_for(self, field: str) -> SurvivorshipRule:
        return self.survivorship.get(field, SurvivorshipRule.MOST_RECENT)
