"""The routing rules file: the shipped file loads; broken files fail at start with the place and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.order_router.rules import Policy, RulesError, load_rules, parse_rules
from services.order_router.settings import DEFAULT_RULES

pytestmark = pytest.mark.unit

_DEFAULT = """
  - id: default
    default: true
    erp_entity: US-SUB
    locations: [WH-A]
"""


def test_the_shipped_rules_file_is_valid() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert rules.rules[-1].default
    assert rules.rule("eu-b2b").policy is Policy.FEWEST_SHIPMENTS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: v1\nrules:\n  - id: a\n    erp_entity: X\n    locations: [A]\n",
            "a default rule is required",
        ),
        (
            "version: v1\nrules:" + _DEFAULT + "  - id: b\n    erp_entity: X\n    locations: [A]\n",
            "must be the last rule",
        ),
        (
            "version: v1\nrules:\n  - id: default\n    erp_entity: X\n    locations: [A]\n" + _DEFAULT,
            "unique",
        ),
        (
            "version: v1\nrules:\n  - id: eu\n    when: {countries: [de]}\n    locations: [A]\n" + _DEFAULT,
            "rules[0] (id 'eu').when.countries",
        ),
        ("version: v1\nrules:\n  - id: x\n    locations: []\n" + _DEFAULT, "rules[0] (id 'x').locations"),
        ("version: v1\nrules:\n  - id: x\n    when: {channels: [web]}\n" + _DEFAULT, "must decide"),
        ("version: v1\nrules:\n  - id: x\n    locations: [A, A]\n" + _DEFAULT, "listed twice"),
        (
            "version: v1\nrules:\n  - id: x\n    when: {min_value: 10, max_value: 5}\n    locations: [A]\n"
            + _DEFAULT,
            "must be below max_value",
        ),
        (
            "version: v1\nrules:\n  - id: default\n    default: true\n    when: {channels: [web]}\n"
            "    erp_entity: X\n    locations: [A]\n",
            "takes no 'when'",
        ),
        ("version: v1\nrules:\n  - id: default\n    default: true\n    locations: [A]\n", "both erp_entity"),
        ("version: v1\nrules:\n  - id: x\n    locatons: [A]\n" + _DEFAULT, "locatons"),
        ("rules: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_invalid_files_are_rejected_with_the_place_and_reason(text: str, message: str) -> None:
    with pytest.raises(RulesError) as raised:
        parse_rules(text, "rules.yaml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("rules.yaml")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read routing rules"):
        load_rules(tmp_path / "absent.yaml")


def test_values_are_decimals() -> None:
    rules = parse_rules(
        "version: v1\nrules:\n  - id: big\n    when: {min_value: '500.10'}\n    erp_entity: B\n" + _DEFAULT
    )
    assert str(rules.rule("big").when.min_value) == "500.10"
