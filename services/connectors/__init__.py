"""Delivery connectors: egress documents -> target HTTP APIs, with idempotency keys, limits and backoff."""
