"""Energy objectives of FreDDI, Sec. 8.3: ``energy``, ``latency_cons``, ``energy_cons`` and
``privacy``. They need the ``freddi`` formulation (energy term lists).

- ``energy``: min sum over energy devices d of (E^c_d + E^x_d).
- ``latency_cons`` (latency-constrained): min edge energy s.t. global latency <= T_cons.
- ``energy_cons`` (energy-constrained): min global latency s.t. E^c_d + E^x_d <= E_cons
  for every energy device d.
- ``privacy`` (privacy-constrained): the first K real layers on the private device (the
  source by default, Sec. 5.1 preassignment), min edge energy.
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, NonNegativeInt, PositiveFloat
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.formulations.freddi import device_energy, energy_device_names
from layerplan.registry import objectives


def _energy_total(ctx: ModelContext, by: str):
    return sum(device_energy(ctx, d) for d in energy_device_names(ctx, by))


def _need(value, field: str):
    if value is None:
        raise ConfigError("missing", field=field)
    return value


@objectives.register("energy", requires=("freddi",), doc="minimize the energy of the edge devices (Sec. 8.3)")
@declare_custom_block(name="EnergyObjective")
class EnergyObjectiveData(ContributionData):
    """Minimize sum_{d in edge} (E^c_d + E^x_d)."""

    CONFIG = ConfigDict()

    def build(self, ctx: ModelContext) -> None:
        self.total_energy_J = pyo.Expression(expr=_energy_total(ctx, "energy"), doc="sum_d (E^c_d + E^x_d)")
        self.Objective = pyo.Objective(expr=self.total_energy_J, sense=pyo.minimize, doc="min edge energy, Sec. 8.3")


@objectives.register("latency_cons", requires=("freddi",),
                     doc="minimize edge energy subject to global latency <= T_cons (Sec. 8.3)")
@declare_custom_block(name="LatencyConsObjective")
class LatencyConsObjectiveData(ContributionData):
    """Latency-constrained: min edge energy s.t. T <= max_latency_s."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_latency_s", ConfigValue(domain=PositiveFloat, description="T_cons, s"))

    def build(self, ctx: ModelContext) -> None:
        cap = _need(self.config.max_latency_s, "objective.max_latency_s")
        self.total_energy_J = pyo.Expression(expr=_energy_total(ctx, "latency_cons"), doc="sum_d (E^c_d + E^x_d)")
        self.max_latency_s = pyo.Param(mutable=True, initialize=cap, doc="T_cons, s (mutable)")
        self.latency_cap_Constraint = pyo.Constraint(expr=ctx.terms.total("latency.") <= self.max_latency_s,
                                                     doc="sum_d (T^x_d + T^c_d) <= T_cons, Sec. 8.3")
        self.Objective = pyo.Objective(expr=self.total_energy_J, sense=pyo.minimize, doc="min edge energy, Sec. 8.3")

    def describe(self) -> str:
        return f"objective.max_latency_s = {self.config.max_latency_s} s"


@objectives.register("energy_cons", requires=("freddi",),
                     doc="minimize global latency subject to E_d <= E_cons per edge device (Sec. 8.3)")
@declare_custom_block(name="EnergyConsObjective")
class EnergyConsObjectiveData(ContributionData):
    """Energy-constrained: min T s.t. E^c_d + E^x_d <= max_energy_J for every energy device."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_energy_J", ConfigValue(domain=PositiveFloat, description="E_cons per edge device, J"))

    def build(self, ctx: ModelContext) -> None:
        cap = _need(self.config.max_energy_J, "objective.max_energy_J")
        names = energy_device_names(ctx, "energy_cons")
        self.ENERGY_DEVICES = pyo.Set(initialize=names, ordered=True, doc="devices under the energy cap")
        self.max_energy_J = pyo.Param(mutable=True, initialize=cap, doc="E_cons per energy device, J (mutable)")
        self.energy_cap_Constraint = pyo.Constraint(self.ENERGY_DEVICES,
                                                    rule=lambda b, d: device_energy(ctx, d) <= b.max_energy_J,
                                                    doc="E^c_d + E^x_d <= E_cons, Sec. 8.3")
        self.total_latency_s = pyo.Expression(expr=ctx.terms.total("latency."), doc="global latency")
        self.Objective = pyo.Objective(expr=self.total_latency_s, sense=pyo.minimize, doc="min global latency")

    def describe(self) -> str:
        return f"objective.max_energy_J = {self.config.max_energy_J} J per edge device"


@objectives.register("privacy", requires=("freddi",),
                     doc="first K real layers on the private (edge) device, minimize edge energy (Sec. 8.3)")
@declare_custom_block(name="PrivacyObjective")
class PrivacyObjectiveData(ContributionData):
    """Privacy-constrained: x[l, d_priv] = 1 for the first K real layers; min edge energy."""

    CONFIG = ConfigDict()
    CONFIG.declare("k", ConfigValue(domain=NonNegativeInt, description="K, real layers kept on the private device"))
    CONFIG.declare("device", ConfigValue(default=None, description="private device (default: the source device)"))

    def build(self, ctx: ModelContext) -> None:
        from layerplan.constraints.privacy import first_k_on

        k = _need(self.config.k, "objective.k")
        first_k_on(self, ctx, k, self.config.device, "objective")
        self.total_energy_J = pyo.Expression(expr=_energy_total(ctx, "privacy"), doc="sum_d (E^c_d + E^x_d)")
        self.Objective = pyo.Objective(expr=self.total_energy_J, sense=pyo.minimize, doc="min edge energy, Sec. 8.3")

    def describe(self) -> str:
        return f"objective.k = {self.config.k} layers on {self.private_device}"
