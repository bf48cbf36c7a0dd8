"""Objective blocks. Importing this package registers the built-in objectives."""

from layerplan.objectives import carbon, energy, latency, throughput  # noqa: F401  (registration)
