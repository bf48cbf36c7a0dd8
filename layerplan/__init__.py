"""layerplan: where and how each layer of a DNN runs across edge, hub and cloud devices.

The root folders of the repository (``formulations/``, ``constraints/``, ``objectives/``,
``experiments/``, ``data/``, ``conf/``) are subpackages of ``layerplan`` once installed
(``pip install .`` maps them, see pyproject.toml). In a source checkout the same names
resolve from the checkout, so ``import layerplan.formulations`` means one thing
everywhere.
"""

import os as _os

__version__ = "0.1.0"

_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "pyproject.toml")) and _os.path.isdir(
    _os.path.join(_root, "formulations")
):  # running from a source checkout: map the root folders into the namespace
    for _sub in ("formulations", "constraints", "objectives", "experiments", "data", "conf"):
        if _os.path.isdir(_os.path.join(_root, _sub)) and _os.path.isdir(_os.path.join(_os.path.dirname(__file__), _sub)):
            raise ImportError(f"ambiguous layerplan.{_sub}: present both in layerplan/ and at the root")
    __path__.append(_root)
