"""Operator tooling for the bus: the `esb` command line and the local development stack."""
