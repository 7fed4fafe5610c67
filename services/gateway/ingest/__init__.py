"""File and feed ingestion (EDI X12, CSV stock feeds) into the same ingress topics as webhooks.

It lives in the gateway service because it shares the gateway's redaction and header contract, and
services never import one another.
"""
