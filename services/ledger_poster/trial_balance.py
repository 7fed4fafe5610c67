"""The trial balance per entity and period: debits and credits per account and currency.

Kept in the state store as ``tb|<entity>|<period>`` -> ``{"<account>|<currency>": [debit, credit,
functional debit, functional credit]}`` (decimal strings), plus ``tbp|<entity>`` -> the periods seen.
Each input partition holds the part of the balance its entries made; a query adds the parts up
(:func:`combine`). Because every entry balances, every combined balance nets to zero per currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from decimal import Decimal
from typing import Any

from schemas.ledger import EntrySide, JournalEntryEvent

__all__ = ["Balance", "apply_entry", "combine", "net_by_currency", "periods_key", "tb_key"]

Balance = dict[str, list[str]]


def tb_key(entity: str, period: str) -> str:
    return f"tb|{entity}|{period}"


def periods_key(entity: str) -> str:
    return f"tbp|{entity}"


def apply_entry(balance: MutableMapping[str, list[str]], entry: JournalEntryEvent) -> None:
    """Add ``entry``'s lines to ``balance`` in place."""
    for line in entry.lines:
        key = f"{line.account}|{line.amount.currency}"
        row = [Decimal(v) for v in balance.get(key, ["0", "0", "0", "0"])]
        offset = 0 if line.side is EntrySide.DEBIT else 1
        row[offset] += line.amount.amount
        row[2 + offset] += line.functional_amount.amount
        balance[key] = [str(v) for v in row]


def combine(parts: Iterable[Mapping[str, Any] | None]) -> dict[str, list[Decimal]]:
    """The sum of per-partition balances."""
    total: dict[str, list[Decimal]] = {}
    for part in parts:
        for key, row in (part or {}).items():
            current = total.setdefault(key, [Decimal(0)] * 4)
            for i in range(4):
                current[i] += Decimal(row[i])
    return total


def net_by_currency(balance: Mapping[str, list[Decimal]]) -> dict[str, Decimal]:
    """Debits minus credits per transaction currency, and per functional currency under ``functional``."""
    nets: dict[str, Decimal] = {}
    functional = Decimal(0)
    for key, row in balance.items():
        currency = key.rsplit("|", 1)[1]
        nets[currency] = nets.get(currency, Decimal(0)) + row[0] - row[1]
        functional += row[2] - row[3]
    nets["functional"] = functional
    return nets
