"""Base class of every formulation, constraint and objective block.

A contribution is a Pyomo custom block (``declare_custom_block``) whose options are a
declared :class:`pyomo.common.config.ConfigDict`: each option has a domain and a
description, and an unknown key is an error. ``build(ctx)`` adds the block's variables,
constraints and expressions, reading what the base block declares through ``ctx`` and
sharing terms through ``ctx.terms`` (:mod:`layerplan.terms`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pyomo.core as pyo
from pyomo.common.config import ConfigDict
from pyomo.core.base.block import BlockData

from layerplan.errors import ConfigError
from layerplan.latency import LatencyParams
from layerplan.scenario import Scenario
from layerplan.terms import TermLists


@dataclass
class ModelContext:
    """What every block may read while it builds: the scenario, the latency parameters,
    the term lists, the model and the base block (``x``, ``z``, sets)."""

    scenario: Scenario
    params: LatencyParams
    terms: TermLists
    model: pyo.ConcreteModel
    base: Any = None
    active: dict[str, Any] = field(default_factory=dict)  # name -> block, in build order
    formulations: list[str] = field(default_factory=list)  # composed formulation names
    shared: dict[str, Any] = field(default_factory=dict)  # declared interfaces between blocks

    def provide(self, name: str, obj: Any) -> None:
        """Publish an interface (e.g. ``bundles``: the block that owns y) for later blocks."""
        self.shared[name] = obj

    def require(self, name: str, by: str) -> Any:
        if name not in self.shared:
            raise ConfigError(f"{by!r} needs {name!r}, which no composed formulation provides", field="formulation")
        return self.shared[name]

    def layer_index(self, name: str, where: str) -> int:
        try:
            return self.params.layers.index(name)
        except ValueError:
            raise ConfigError(f"unknown layer {name!r}", field=where) from None

    def check_device(self, name: str, where: str) -> str:
        if name not in self.params.devices:
            raise ConfigError(f"unknown device {name!r} (devices: {', '.join(self.params.devices)})", field=where)
        return name


class ContributionData(BlockData):
    """Common behaviour: a checked config and a ``build(ctx)``."""

    CONFIG = ConfigDict()
    kind = "contribution"

    def configure(self, options: Mapping[str, Any] | None, where: str) -> None:
        try:
            self.config = self.CONFIG(dict(options or {}))
        except ValueError as exc:
            msg = str(exc).replace("\n", " ").replace("\t", "")
            known = ", ".join(self.CONFIG.keys()) or "none"
            raise ConfigError(f"{msg} (options: {known})", field=where) from None

    def build(self, ctx: ModelContext) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def describe_config(config: ConfigDict) -> list[dict]:
    """Options of a contribution as rows (name, default, description) for docs and --help."""
    return [
        {"option": k, "default": v.value(), "description": v._description or ""}
        for k, v in config.items()
    ]


def block_class(data_cls: type) -> type:
    """The component class that ``declare_custom_block`` made for ``data_cls``."""
    import sys

    module = sys.modules[data_cls.__module__]
    for obj in vars(module).values():
        if isinstance(obj, type) and getattr(obj, "_ComponentDataClass", None) is data_cls:
            return obj
    raise TypeError(f"{data_cls.__name__} is not declared with declare_custom_block")
