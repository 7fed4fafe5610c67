"""The trial balance over HTTP: ``GET /trial-balance/<entity>[/<period>]`` (periods, or one period).

The balance lives in the ``ledger`` store, one part per input partition. The routes are the
runtime's interactive queries (:mod:`bus.query`): served on the ops HTTP port from the committed
state of the partitions this instance owns, with the changelog offsets they reflect in the
``ESB-State-Positions`` header. The report sums the parts of the partitions listed there; with
several instances, ask each (or run one instance per entity's partitions) and add the reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bus.query import Query, StateSnapshot
from services.ledger_poster.chart import Chart
from services.ledger_poster.handler import STORE_LEDGER
from services.ledger_poster.trial_balance import combine, net_by_currency, periods_key, tb_key

__all__ = ["ledger_queries", "periods_report", "trial_balance_report"]

_PERIOD = re.compile(r"\d{4}-\d{2}")


def trial_balance_report(chart: Chart, entity: str, period: str, parts: Sequence[Any]) -> dict[str, Any]:
    balance = combine(parts)
    rows = []
    for key in sorted(balance):
        account, currency = key.rsplit("|", 1)
        debit, credit, f_debit, f_credit = balance[key]
        known = chart.accounts.get(account)
        rows.append(
            {
                "account": account,
                "name": known.name if known else None,
                "currency": currency,
                "debit": str(debit),
                "credit": str(credit),
                "balance": str(debit - credit),
                "functional_debit": str(f_debit),
                "functional_credit": str(f_credit),
                "functional_balance": str(f_debit - f_credit),
            }
        )
    nets = net_by_currency(balance)
    return {
        "entity": entity,
        "period": period,
        "functional_currency": chart.entities[entity].functional_currency,
        "accounts": rows,
        "net": {currency: str(value) for currency, value in sorted(nets.items())},
        "balanced": all(value == Decimal(0) for value in nets.values()),
    }


def periods_report(entity: str, parts: Sequence[Any]) -> dict[str, Any]:
    periods = sorted({period for part in parts for period in part or []})
    return {"entity": entity, "periods": periods}


def ledger_queries(chart: Chart) -> list[Query]:
    """The routes the runtime serves on its ops HTTP port (``ESB_HTTP_PORT``)."""

    def periods(params: Mapping[str, str], state: StateSnapshot) -> Any:
        entity = params["entity"]
        if entity not in chart.entities:
            return None
        return periods_report(entity, state.store(STORE_LEDGER).values(periods_key(entity)))

    def balance(params: Mapping[str, str], state: StateSnapshot) -> Any:
        entity, period = params["entity"], params["period"]
        if entity not in chart.entities or _PERIOD.fullmatch(period) is None:
            return None
        parts = state.store(STORE_LEDGER).values(tb_key(entity, period))
        return trial_balance_report(chart, entity, period, parts)

    return [Query("/trial-balance/{entity}", periods), Query("/trial-balance/{entity}/{period}", balance)]
