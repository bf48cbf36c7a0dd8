"""Energy cap per energy device (Sec. 8.3): E^c_d + E^x_d <= E_cons. Needs ``freddi``."""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, PositiveFloat
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.formulations.freddi import device_energy, energy_device_names
from layerplan.registry import constraints


@constraints.register("energy_cap", requires=("freddi",), doc="E^c_d + E^x_d <= max_energy_J per edge device")
@declare_custom_block(name="EnergyCap")
class EnergyCapData(ContributionData):
    """Every energy device spends at most ``max_energy_J`` per inference."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_energy_J", ConfigValue(domain=PositiveFloat, description="E_cons, J"))

    def build(self, ctx: ModelContext) -> None:
        if self.config.max_energy_J is None:
            raise ConfigError("missing", field="constraints.energy_cap.max_energy_J")
        names = energy_device_names(ctx, "energy_cap")
        self.ENERGY_DEVICES = pyo.Set(initialize=names, ordered=True, doc="devices under the cap")
        self.max_energy_J = pyo.Param(mutable=True, initialize=self.config.max_energy_J,
                                      doc="E_cons, J (mutable: sweeps re-solve with another cap)")
        self.cap_Constraint = pyo.Constraint(self.ENERGY_DEVICES,
                                             rule=lambda b, d: device_energy(ctx, d) <= b.max_energy_J,
                                             doc="E^c_d + E^x_d <= E_cons")

    def describe(self) -> str:
        return f"energy_cap.max_energy_J = {self.config.max_energy_J} J"
