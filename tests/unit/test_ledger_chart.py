"""The chart-of-accounts mapping: the default file is valid, broken ones are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.ledger_poster.chart import AccountRole, ChartError, PostingScope, load_chart
from services.ledger_poster.settings import DEFAULT_CHART

pytestmark = pytest.mark.unit


def _variant(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load(DEFAULT_CHART.read_text())
    data.update(change)
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_default_chart_routes_and_resolves() -> None:
    chart = load_chart(DEFAULT_CHART)
    assert chart.entity_for(PostingScope(channel="shopify")) == "US01"
    assert chart.entity_for(PostingScope(processor="adyen", account="Any")) == "EU01"
    assert chart.account_for(AccountRole.CLEARING, PostingScope(entity="US01", processor="stripe")) == "1210"
    assert chart.account_for(AccountRole.CLEARING, PostingScope(entity="US01", processor="bogus")) == "1200"
    assert chart.account_for(AccountRole.BANK, PostingScope(entity="EU01")) == "1011"


def test_most_specific_override_wins(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CHART.read_text())
    data["accounts"]["2210"] = {"name": "NY sales tax", "type": "liability"}
    data["overrides"] += [
        {"match": {"entity": "US01", "jurisdiction": "US-NY"}, "accounts": {"tax_payable": "2210"}},
        {"match": {"jurisdiction": "US-NY"}, "accounts": {"tax_payable": "2200"}},
    ]
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data))
    chart = load_chart(path)
    assert (
        chart.account_for(AccountRole.TAX_PAYABLE, PostingScope(entity="US01", jurisdiction="US-NY"))
        == "2210"
    )
    assert (
        chart.account_for(AccountRole.TAX_PAYABLE, PostingScope(entity="US01", jurisdiction="US-CA"))
        == "2200"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"defaults": {"revenue": "4000"}}, "no account for roles"),
        ({"routing": [{"match": {}, "entity": "XX99"}]}, "unknown entity 'XX99'"),
        (
            {"overrides": [{"match": {"processor": "stripe"}, "accounts": {"clearing": "9999"}}]},
            "unknown account '9999'",
        ),
        (
            {"overrides": [{"match": {"processor": "stripe"}, "accounts": {"clearing": "4000"}}]},
            "account 4000 is revenue",
        ),
        ({"entities": {"US01": {"functional_currency": "usd"}}}, "not an ISO 4217 code"),
        ({"entities": {"US01": {"functional_currency": "USD", "closed_through": "2024-13"}}}, "YYYY-MM"),
        (
            {"entities": {"US01": {"functional_currency": "USD", "timezone": "Mars/Olympus"}}},
            "unknown time zone",
        ),
        ({"routing": []}, "at least one route"),
    ],
)
def test_invalid_charts_are_refused_with_the_reason(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    with pytest.raises(ChartError, match=reason):
        load_chart(_variant(tmp_path, change))


def test_unreadable_chart_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: [1\n")
    with pytest.raises(ChartError, match="cannot read"):
        load_chart(path)
