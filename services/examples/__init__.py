"""Example services used by the runtime's tests and benchmarks."""
