"""Inventory projector: stock movements and reservations in, levels and channel availability out."""
