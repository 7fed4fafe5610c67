"""``_shared``'s money pairs, addresses and tags on the plain document, for the orders hot path.

Same rules and rejections as ``_shared`` (which the other Shopify adapters use on JsonNodes). A
source amount is checked here, at its path, to rules inside the model's (at most 4 places, below
10^14, ``[A-Z]{3}``) and becomes a ``Money`` without a second validation (:func:`checked_money`);
an amount the adapter computes (a line total, a sum) is a ``Money`` the same way when it is plainly
within decimal(20, 4), else the dict ``{"amount", "currency"}`` that the canonical model validates.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from schemas.base import trusted
from schemas.common.models import Address, Money
from services.translator.adapters import _fields as f
from services.translator.errors import MISSING, TranslationError

__all__ = [
    "AnyMoney",
    "MoneyDict",
    "PlainPair",
    "address",
    "checked_money",
    "money",
    "money_pair",
    "opt_money_pair",
    "set_money",
    "tags",
]

MoneyDict = dict[str, Any]
AnyMoney = Money | MoneyDict
PlainPair = tuple[Money, Money | None]
"""(shop money, presentment money when the source gives it)"""

_FOUR_PLACES = Decimal("0.0001")
_COMPUTED_LIMIT = Decimal(10) ** 16
_ADDRESS = frozenset(Address.model_fields)
_MONEY = frozenset(Money.model_fields)
_CODE = re.compile(r"[A-Z]{3}")
_SEEN: dict[tuple[str, str], Money] = {}  # (amount text, currency code) -> its Money
_COMPUTED: dict[tuple[Decimal, str], Money] = {}  # (computed amount, code) -> its Money, not for 0
_SEEN_SIZE = 4096


def checked_money(amount: Decimal, currency: str) -> Money:
    """``Money`` for an amount with at most 4 places below 10^14 and a ``[A-Z]{3}`` code, both
    checked by the caller (so within the model's decimal(20, 4) and pattern): the instance the
    validator makes (amount quantized as it does), built trusted (40+ per order). A unit test holds
    it equal, attribute for attribute, to ``Money(amount=..., currency=...)``."""
    return trusted(Money, {"amount": amount.quantize(_FOUR_PLACES), "currency": currency}, _MONEY)


def money(amount: Decimal, currency: str) -> AnyMoney:
    """A computed amount (a sum, a line total) in a checked currency: ``Money`` when it is plainly
    inside decimal(20, 4) (finite, at most 4 places, below 10^16: the validator would only quantize
    it), else the dict the canonical model validates, which then rejects it at its field."""
    if not amount.is_finite():
        return {"amount": amount, "currency": currency}
    # Whether it fits and what it becomes depend on its value only: equal amounts are one Money.
    # Not zero: 0 and -0 are equal Decimals, but not the same JSON.
    made = _COMPUTED.get((amount, currency)) if amount else None
    if made is not None:
        return made
    if -_COMPUTED_LIMIT < amount < _COMPUTED_LIMIT:
        quantized = amount.quantize(_FOUR_PLACES)
        if quantized == amount:  # at most 4 places of value (1.50000 too: the validator only quantizes it)
            made = checked_money(quantized, currency)
            if amount:
                if len(_COMPUTED) >= _SEEN_SIZE:
                    _COMPUTED.clear()
                _COMPUTED[amount, currency] = made
            return made
    return {"amount": amount, "currency": currency}


def set_money(value: Any, path: str) -> Money:
    """``{"amount": "1.00", "currency_code": "USD"}`` (``currency`` where transactions say so)."""
    plain = _plain_set(value)
    if plain is not None:
        return plain
    node = f.obj(value, path)
    amount = f.amount(node, "amount", path)
    code_key = "currency_code" if node.get("currency_code") is not None else "currency"
    return checked_money(amount, f.currency(node, code_key, path))


def _plain_set(value: Any) -> Money | None:
    """The common shape of a ``*_set`` entry, else None (then :func:`set_money` decides).

    Remembered by its two strings: the same source text is the same (immutable) ``Money``, and
    prices, taxes and totals repeat within an order and across orders (~1 µs each otherwise)."""
    if type(value) is not dict:
        return None
    amount = value.get("amount")
    code = value.get("currency_code")
    if type(amount) is not str or type(code) is not str:
        return None
    key = (amount, code)
    made = _SEEN.get(key)
    if made is not None:
        return made
    if not f.PLAIN_AMOUNT.fullmatch(amount) or not _CODE.fullmatch(code):
        return None
    made = checked_money(Decimal(amount), code)
    if len(_SEEN) >= _SEEN_SIZE:
        _SEEN.clear()
    _SEEN[key] = made
    return made


def money_pair(parent: f.Obj, field: str, path: str, shop_currency: str) -> PlainPair:
    """``parent[field]`` in the shop currency, and in the presentment currency when ``field_set`` exists."""
    twin_key = field + "_set"
    twin = parent.get(twin_key)
    if type(twin) is dict:  # the common shape first: no path strings
        shop_money = twin.get("shop_money")
        shop = _plain_set(shop_money)
        if shop is not None and shop.currency == shop_currency:
            presentment = twin.get("presentment_money")
            if presentment is None:
                return shop, None
            if presentment == shop_money:  # a single-currency shop: one (immutable) Money for both
                return shop, shop
            plain = _plain_set(presentment)
            if plain is not None:
                return shop, plain
    if twin is not None:
        twin_path = f"{path}.{twin_key}"
        twin = f.obj(twin, twin_path)
        shop = set_money(twin.get("shop_money", MISSING), f"{twin_path}.shop_money")
        if shop.currency != shop_currency:
            raise TranslationError(f"{twin_path}.shop_money.currency_code", shop_currency, shop.currency)
        presentment = twin.get("presentment_money")
        if presentment is None:
            return shop, None
        return shop, set_money(presentment, f"{twin_path}.presentment_money")
    return checked_money(f.amount(parent, field, path), shop_currency), None


def opt_money_pair(parent: f.Obj, field: str, path: str, shop_currency: str) -> PlainPair | None:
    if parent.get(field) is None and parent.get(f"{field}_set") is None:
        return None
    return money_pair(parent, field, path, shop_currency)


def address(value: Any, path: str) -> Address | None:
    if value is None:
        return None
    node = f.obj(value, path)
    if not node:
        return None
    country = f.opt_text(node, "country_code", path)
    province = f.opt_text(node, "province_code", path)
    street = [
        line for line in (f.opt_text(node, "address1", path), f.opt_text(node, "address2", path)) if line
    ]
    name = f.opt_text(node, "name", path) or " ".join(
        part for part in (f.opt_text(node, "first_name", path), f.opt_text(node, "last_name", path)) if part
    )
    fields = {
        "name": name or None,
        "company": f.opt_text(node, "company", path),
        "street_lines": street,
        "city": f.opt_text(node, "city", path),
        "region": f.opt_text(node, "province", path),
        # Shopify's province_code is the subdivision part only ("KY"); ISO 3166-2 is "US-KY".
        "region_code": f"{country}-{province}" if country and province else None,
        "postal_code": f.opt_text(node, "zip", path),
        "country_code": country,
        "phone": f.opt_text(node, "phone", path),
    }
    return trusted(Address, fields, _ADDRESS)  # strings only: as the model keeps them


def tags(parent: f.Obj, key: str, path: str) -> list[str]:
    """Shopify tags are one comma-separated string."""
    text = f.opt_text(parent, key, path)
    return [tag.strip() for tag in text.split(",") if tag.strip()] if text else []
