"""Translator: native ingress payloads to canonical events, one pure adapter per system and entity."""
