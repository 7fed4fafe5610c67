"""Deployment tooling: the pinned Helm binary and helpers to render and lint the chart."""
