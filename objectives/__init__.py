"""Objective blocks. Importing this package registers the built-in objectives."""

from layerplan.objectives import energy, latency  # noqa: F401  (registration)
