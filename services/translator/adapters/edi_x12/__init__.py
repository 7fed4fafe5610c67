"""EDI X12 (850, 856, 940, 945; 4010 and later) -> canonical events, one module per transaction set.

Routes: ``edi.850`` / ``edi.856`` / ``edi.940`` / ``edi.945`` take interchanges of that set only;
``edi.x12`` takes any interchange and dispatches each ST by its code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

from schemas.base import AvroRecord
from services.translator.adapters.edi_x12.common import EdiSettings
from services.translator.adapters.edi_x12.envelope import Transaction, read_transactions
from services.translator.adapters.edi_x12.purchase_order import purchase_order
from services.translator.adapters.edi_x12.shipments import ship_notice, shipping_advice
from services.translator.adapters.edi_x12.warehouse_order import warehouse_order
from services.translator.convert import guarded
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.registry import Translate

__all__ = ["ROUTES", "TRANSACTION_SETS", "EdiSettings", "routes", "translate_interchange"]

_Mapper = Callable[[IngressRecord, Transaction, EdiSettings], Sequence[AvroRecord]]

TRANSACTION_SETS: Mapping[str, _Mapper] = {
    "850": lambda record, txn, settings: [purchase_order(record, txn, settings)],
    "856": ship_notice,
    "940": lambda record, txn, settings: [warehouse_order(record, txn, settings)],
    "945": lambda record, txn, settings: [shipping_advice(record, txn, settings)],
}


def translate_interchange(
    settings: EdiSettings, only: str | None, record: IngressRecord
) -> Sequence[AvroRecord]:
    events: list[AvroRecord] = []
    for transaction in read_transactions(record.raw, enforce_segment_counts=settings.enforce_segment_counts):
        code = transaction.code
        mapper = TRANSACTION_SETS.get(code)
        if mapper is None or (only is not None and code != only):
            expected = only or f"one of {sorted(TRANSACTION_SETS)}"
            raise TranslationError(f"ST01 (ST02 {transaction.control_number})", expected, code)
        events.extend(mapper(record, transaction, settings))
    return events


def routes(settings: EdiSettings) -> Mapping[tuple[str, str], Translate]:
    table: dict[tuple[str, str], Translate] = {
        ("edi", code): guarded(partial(translate_interchange, settings, code)) for code in TRANSACTION_SETS
    }
    table[("edi", "x12")] = guarded(partial(translate_interchange, settings, None))
    return table


ROUTES = routes(EdiSettings())
