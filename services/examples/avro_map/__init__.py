"""Avro -> Avro map (example, stateless; the benchmark's workload)."""
