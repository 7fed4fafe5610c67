"""Micro-benchmark: a Shopify order webhook to the Avro body of its canonical ``Order``, the Python
adapter (msgspec decode, mapping, the bus's compiled Avro encoder) against ``esb_native``.

    .venv/bin/python benchmarks/native_orders.py [--lines 7] [--seconds 2]

The body is ``benchmarks/translator.py``'s (the full conformance order with ``--lines`` line
items). Both paths are timed in one process, CPU time per order (``time.process_time``), best of
five rounds; the compiled figure includes building the returned tuples. No broker needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from esb_native import shopify_orders  # noqa: E402

from benchmarks.shopify_orders import shopify_order_body  # noqa: E402
from bus.avro_fast import compile_encoder  # noqa: E402
from schemas.loader import parsed_schema  # noqa: E402
from services.translator.adapters.shopify.orders import translate_orders  # noqa: E402
from services.translator.ingress import IngressRecord  # noqa: E402

CONFORMANCE = ROOT.parent / "shared" / "conformance" / "shopify" / "api_2024-04_order_get_full.json"
SHOP = "bench-shop.myshopify.com"


def webhook_body(order_id: int, lines: int) -> bytes:
    return shopify_order_body(json.loads(CONFORMANCE.read_bytes())["order"], order_id, lines)


def per_order_us(run: Callable[[], Any], seconds: float) -> float:
    """CPU microseconds per call, best of five rounds of about ``seconds / 5`` each."""
    calls = 1
    while True:  # calibrate: enough calls for a round
        start = time.process_time()
        for _ in range(calls):
            run()
        elapsed = time.process_time() - start
        if elapsed >= seconds / 50:
            break
        calls *= 2
    calls = max(1, int(calls * (seconds / 5) / max(elapsed, 1e-9)))
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls):
            run()
        best = min(best, (time.process_time() - start) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per path")
    args = parser.parse_args()

    body = webhook_body(5_000_000_007, args.lines)
    record = IngressRecord(
        raw=body, system="shopify", entity="orders", account=SHOP, received_at=_received_at()
    )
    schema = parsed_schema("com.esb.canonical.orders.Order")
    encode = compile_encoder(schema, schema.get("__named_schemas", {}))

    def python_path() -> bytes:
        out = bytearray()
        for event in translate_orders(record):
            encode(event.order, out)
        return bytes(out)

    def native_path() -> Any:
        return shopify_orders(body, "shopify", SHOP)

    native = native_path()
    if native is None:
        raise SystemExit("esb_native declined the benchmark order")
    if native[0][6] != python_path():
        raise SystemExit("esb_native and the Python path differ on the benchmark order")

    python_us = per_order_us(python_path, args.seconds)
    native_us = per_order_us(native_path, args.seconds)
    print(f"order with {args.lines} line items, {len(body):,} bytes of JSON")
    print(f"python  (decode + map + encode Order): {python_us:8.1f} µs per order")
    print(f"esb_native.shopify_orders:             {native_us:8.1f} µs per order")
    print(f"ratio: {python_us / native_us:.1f}x")


def _received_at() -> Any:
    from datetime import UTC, datetime

    return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


if __name__ == "__main__":
    main()
