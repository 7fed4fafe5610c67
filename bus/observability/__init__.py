"""Runtime middleware: tracing, metrics, structured logs and health endpoints."""
