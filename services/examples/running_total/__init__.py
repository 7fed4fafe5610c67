"""Per-account running totals (example, stateful)."""
