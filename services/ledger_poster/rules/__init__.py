"""Posting rules: one module per family, each turning a canonical event into drafts of balanced entries."""
