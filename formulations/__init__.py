"""Formulation blocks: the base ILP (Ch. 5) and the mixins of Chs. 6-9.

Importing this package registers the built-in formulations in
:data:`layerplan.registry.formulations`.
"""

from layerplan.formulations import base, cadi, dag, dime, freddi, preload  # noqa: F401  (registration)
