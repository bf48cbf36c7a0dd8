"""Constraint plugins. Importing this package registers the built-in constraints.

A constraint is one small file: a custom block with a declared config and a
``build(ctx)``, registered with ``@constraints.register(name)``. See the README.
"""

from layerplan.constraints import energy_cap, latency_cap, max_transitions, min_inferences, pin, privacy  # noqa: F401  (registration)
