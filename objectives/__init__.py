"""Objective blocks. Importing this package registers the built-in objectives."""

from layerplan.objectives import carbon, energy, latency  # noqa: F401  (registration)
