"""The translator's compiled fast path (see native/README.md)."""

def shopify_orders(
    body: bytes, system: str, account: str
) -> list[tuple[str, str, int, int | None, int | None, int | None, bytes]] | None:
    """Per order of a Shopify order webhook body, in document order: ``(order_id, native_id,
    placed_at_us, updated_at_us, cancelled_at_us, closed_at_us, order_avro)``: the canonical order
    id, the native id, the instants in microseconds since the epoch (UTC, full precision) and the
    Avro body of the canonical ``Order``, byte for byte what the Python adapter and the bus's
    encoder produce. None when the payload is not one it reproduces exactly (the Python adapter
    then decides, rejections included). Never raises."""
