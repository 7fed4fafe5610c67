"""The canonical event model: Avro schemas (``*.avsc``), their pydantic twins and deterministic ids.

Read ``schemas/README.md`` first. Import events from their domain: ``from schemas.orders import OrderEvent``.
"""
