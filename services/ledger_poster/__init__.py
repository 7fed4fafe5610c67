"""Ledger poster: orders, payments, refunds and returns into balanced double-entry journal entries."""
