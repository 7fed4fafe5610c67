"""Amazon Selling Partner API adapters: Orders v0 (header joined with items) and notifications."""

from __future__ import annotations

from services.translator.adapters._common import Translate
from services.translator.adapters.amazon.notifications import translate_notifications
from services.translator.adapters.amazon.orders import translate_orders

__all__ = ["ROUTES"]

ROUTES: dict[tuple[str, str], Translate] = {
    ("amazon", "orders"): translate_orders,
    ("amazon", "notifications"): translate_notifications,
}
