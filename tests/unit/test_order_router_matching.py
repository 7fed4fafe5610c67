"""Rule matching: first match wins per line for locations and per order for the ERP entity; holds."""

from __future__ import annotations

import pytest

from schemas.common.models import Address
from schemas.orders.models import FinancialStatus
from services.order_router.matching import decide, hold_reason
from services.order_router.rules import Policy, parse_rules
from tests.order_router_support import RULES, line, order_event

pytestmark = pytest.mark.unit

RICH = """
version: v2
holds: {financial_statuses: [PENDING, AUTHORIZED], tags: [fraud-hold], attributes: {fraud_risk: high}}
rules:
  - id: tagged
    when: {product_tags: [frozen]}
    locations: [WH-COLD]
  - id: amazon
    when: {channels: [amazon]}
    erp_entity: AMZ
    locations: [FBA]
  - id: west
    when: {countries: [US], regions: [US-CA]}
    erp_entity: US
    locations: [WH-W, WH-E]
  - id: big-b2b
    when: {b2b: true, min_value: "1000.00"}
    erp_entity: B2B
    locations: [WH-B2B]
  - id: default
    default: true
    erp_entity: US
    locations: [WH-E, WH-W]
"""


def test_lines_take_the_first_rule_that_names_locations() -> None:
    rules = parse_rules(RULES)
    event = order_event("1", [line("1", "HAZ-9", 1), line("2", "SKU-1", 2)])
    decision = decide(rules, event.order)
    assert [(r.line_id, r.locations, r.rule_id) for r in decision.lines] == [
        ("1", ("WH-HAZ",), "hazmat"),
        ("2", ("WH-A", "WH-B"), "default"),
    ]
    assert decision.erp_entity == "US-SUB"
    assert decision.rule_ids == ("default", "hazmat")


def test_ship_to_country_picks_entity_and_locations() -> None:
    decision = decide(parse_rules(RULES), order_event("1", [line("1", "SKU-1", 1)], country="DE").order)
    assert decision.erp_entity == "EU-SUB"
    assert decision.lines[0].locations == ("WH-DE", "WH-NL")


def test_policy_comes_from_the_rule() -> None:
    event = order_event("1", [line("1", "SKU-1", 1)], tags=["consolidate"])
    assert decide(parse_rules(RULES), event.order).lines[0].policy is Policy.FEWEST_SHIPMENTS


def test_region_product_tags_value_and_b2b() -> None:
    rules = parse_rules(RICH)
    cold = line("1", "ICE", 1, properties={"product_tags": "Frozen, food"})
    west = order_event("1", [cold, line("2", "X", 1)]).order.model_copy(
        update={"shipping_address": Address(country_code="US", region_code="US-CA")}
    )
    decision = decide(rules, west)
    assert [r.locations for r in decision.lines] == [("WH-COLD",), ("WH-W", "WH-E")]
    assert decision.erp_entity == "US"
    b2b = order_event("2", [line("1", "X", 1)], total="1000.00", tags=["wholesale"]).order
    assert decide(rules, b2b).erp_entity == "B2B"
    small = order_event("3", [line("1", "X", 1)], total="999.99", tags=["wholesale"]).order
    assert decide(rules, small).erp_entity == "US"
    company = order_event("4", [line("1", "X", 1)], total="1500.00").order.model_copy(
        update={"billing_address": Address(company="ACME GmbH")}
    )
    assert decide(rules, company).erp_entity == "B2B"


def test_lines_without_sku_or_shipping_are_not_routed() -> None:
    event = order_event("1", [line("1", "SKU-1", 1), line("2", "GIFT", 1, requires_shipping=False)])
    assert [r.line_id for r in decide(parse_rules(RULES), event.order).lines] == ["1"]


@pytest.mark.parametrize(
    ("status", "tags", "attributes", "reason"),
    [
        (FinancialStatus.PENDING, [], {}, "financial status PENDING"),
        (FinancialStatus.AUTHORIZED, [], {}, "financial status AUTHORIZED"),
        (FinancialStatus.PAID, ["Fraud-Hold"], {}, "tag fraud-hold"),
        (FinancialStatus.PAID, [], {"fraud_risk": "high"}, "attribute fraud_risk=high"),
        (FinancialStatus.PAID, [], {"fraud_risk": "low"}, None),
    ],
)
def test_holds_are_configurable(
    status: FinancialStatus, tags: list[str], attributes: dict[str, str], reason: str | None
) -> None:
    order = order_event("1", [line("1", "X", 1)], status=status, tags=tags).order
    order = order.model_copy(update={"attributes": attributes})
    assert hold_reason(parse_rules(RICH), order) == reason
