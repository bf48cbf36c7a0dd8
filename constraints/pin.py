"""Pin named layers to devices (preassignment, Sec. 5.2: set x[l,d] = 1)."""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.registry import constraints


@constraints.register("pin", doc="preassign layers to devices: layers={layer: device}")
@declare_custom_block(name="PinLayers")
class PinLayersData(ContributionData):
    """Force each listed layer onto its device."""

    CONFIG = ConfigDict()
    CONFIG.declare("layers", ConfigValue(default={}, domain=dict, description="mapping layer name -> device name"))

    def build(self, ctx: ModelContext) -> None:
        b = ctx.base
        pins = {
            ctx.layer_index(name, f"constraints.pin.layers.{name}"): ctx.check_device(dev, f"constraints.pin.layers.{name}")
            for name, dev in self.config.layers.items()
        }
        self.PINNED = pyo.Set(initialize=sorted(pins), doc="pinned layers")
        self.pin_Constraint = pyo.Constraint(self.PINNED, rule=lambda blk, l: b.x[l, pins[l]] == 1, doc="x[l, d_l] = 1")

    def describe(self) -> str:
        return f"pin.layers = {dict(self.config.layers)}"
