"""Offline tools that produce the data files shipped with layerplan (not needed to solve)."""
