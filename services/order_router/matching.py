"""Which rules an order matches: its ERP entity, each line's ranked locations, and whether it is held.

Semantics (first match wins, in file order):

* a rule matches a *line* when all its order-level conditions (channel, account, ship-to, order tags,
  value, B2B, payment status) hold for the order and all its line-level conditions (SKU, SKU pattern,
  product tags) hold for the line;
* a line's locations come from the first rule matching it that names locations; its policy from
  that rule (or the file's);
* the order's ERP entity comes from the first rule that names an entity and matches at least one
  line (a rule without line-level conditions matches every line, and the order even without lines);
* the default rule matches everything, so every line and order gets a decision.

Only lines that need shipping and have a SKU and a positive quantity are routed to locations.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from decimal import Decimal

from schemas.orders.models import Order, OrderLine
from services.order_router.rules import Match, Policy, Rule, RulesFile

__all__ = ["Decision", "LineRoute", "decide", "hold_reason", "is_b2b", "product_tags", "routable"]


@dataclass(frozen=True, slots=True)
class LineRoute:
    line_id: str
    sku: str
    quantity: int
    locations: tuple[str, ...]
    policy: Policy
    rule_id: str


@dataclass(frozen=True, slots=True)
class Decision:
    erp_entity: str
    entity_rule: str
    lines: tuple[LineRoute, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(sorted({self.entity_rule, *(line.rule_id for line in self.lines)}))


def routable(line: OrderLine) -> bool:
    return line.requires_shipping and bool(line.sku) and line.quantity > 0


def product_tags(line: OrderLine) -> frozenset[str]:
    raw = line.properties.get("product_tags", "")
    return frozenset(tag.strip().lower() for tag in raw.split(",") if tag.strip())


def is_b2b(order: Order, rules: RulesFile) -> bool:
    tags = {tag.lower() for tag in order.tags}
    if tags & {tag.lower() for tag in rules.b2b.tags}:
        return True
    billing = order.billing_address
    return bool(rules.b2b.company_on_billing_address and billing is not None and billing.company)


def _order_matches(match: Match, order: Order, b2b: bool) -> bool:
    address = order.shipping_address
    if match.channels and order.channel.lower() not in {c.lower() for c in match.channels}:
        return False
    if match.accounts and order.account not in match.accounts:
        return False
    if match.countries and (address is None or (address.country_code or "").upper() not in match.countries):
        return False
    if match.regions:
        regions = set() if address is None else {address.region_code, address.region}
        if not regions & set(match.regions):
            return False
    if match.order_tags and not {t.lower() for t in order.tags} & {t.lower() for t in match.order_tags}:
        return False
    total: Decimal = order.totals.total.amount
    if match.min_value is not None and total < match.min_value:
        return False
    if match.max_value is not None and total >= match.max_value:
        return False
    if match.b2b is not None and match.b2b != b2b:
        return False
    return not (match.financial_statuses and order.financial_status not in match.financial_statuses)


def _line_matches(match: Match, line: OrderLine) -> bool:
    sku = line.sku or ""
    if (match.skus or match.sku_patterns) and not (
        sku in match.skus or any(fnmatch.fnmatchcase(sku, pattern) for pattern in match.sku_patterns)
    ):
        return False
    return not (match.product_tags and not product_tags(line) & {t.lower() for t in match.product_tags})


def decide(rules: RulesFile, order: Order) -> Decision:
    """The routing decision for the order as it is now (pure; the same order gives the same decision)."""
    b2b = is_b2b(order, rules)
    applicable: list[Rule] = [rule for rule in rules.rules if _order_matches(rule.when, order, b2b)]
    lines = [line for line in order.lines if routable(line)]
    routes: list[LineRoute] = []
    for line in lines:
        rule = next(r for r in applicable if r.locations is not None and _line_matches(r.when, line))
        assert rule.locations is not None
        routes.append(
            LineRoute(
                line_id=line.line_id,
                sku=line.sku or "",
                quantity=line.quantity,
                locations=rule.locations,
                policy=rule.policy or rules.policy,
                rule_id=rule.id,
            )
        )
    entity_rule = next(
        r
        for r in applicable
        if r.erp_entity is not None
        and (not r.when.line_level or any(_line_matches(r.when, line) for line in order.lines))
    )
    assert entity_rule.erp_entity is not None
    return Decision(entity_rule.erp_entity, entity_rule.id, tuple(routes))


def hold_reason(rules: RulesFile, order: Order) -> str | None:
    """Why the order must wait (payment or fraud), or None when it may be routed."""
    holds = rules.holds
    if order.financial_status in holds.financial_statuses:
        return f"financial status {order.financial_status.value}"
    flagged = sorted({t.lower() for t in order.tags} & {t.lower() for t in holds.tags})
    if flagged:
        return f"tag {flagged[0]}"
    for name, value in sorted(holds.attributes.items()):
        if order.attributes.get(name) == value:
            return f"attribute {name}={value}"
    return None
