"""The benchmarks' Shopify order webhook: the full conformance order with varied ids and lines."""

from __future__ import annotations

import copy
import json
from typing import Any


def shopify_order_body(order: dict[str, Any], order_id: int, lines: int) -> bytes:
    """``order`` (the conformance file's ``order`` object, left untouched) as webhook JSON with the
    id ``order_id`` and ``lines`` line items cycled from its own, each with an id of its own."""
    body = copy.deepcopy(order)
    template = order["line_items"]
    body["line_items"] = []
    for n in range(lines):
        item = copy.deepcopy(template[n % len(template)])
        item["id"] = order_id * 100 + n
        body["line_items"].append(item)
    body.update(id=order_id, order_number=order_id % 1_000_000, name=f"#{order_id % 1_000_000}")
    return json.dumps(body).encode()
