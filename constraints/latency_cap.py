"""Cap on the global latency: T^c + T^x + T^w <= T_cons (the latency constraint of Ch. 8)."""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, PositiveFloat
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.registry import constraints


@constraints.register("latency_cap", doc="global latency <= max_latency_s")
@declare_custom_block(name="LatencyCap")
class LatencyCapData(ContributionData):
    """Global latency (every ``latency.*`` term list) at most ``max_latency_s``."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_latency_s", ConfigValue(domain=PositiveFloat, description="cap T_cons on the global latency, s"))

    def build(self, ctx: ModelContext) -> None:
        if self.config.max_latency_s is None:
            from layerplan.errors import ConfigError

            raise ConfigError("missing", field="constraints.latency_cap.max_latency_s")
        self.max_latency_s = pyo.Param(mutable=True, initialize=self.config.max_latency_s,
                                       doc="T_cons, s (mutable: sweeps re-solve with another cap)")
        self.cap_Constraint = pyo.Constraint(
            expr=ctx.terms.total("latency.") <= self.max_latency_s,
            doc="T <= T_cons",
        )

    def describe(self) -> str:
        return f"latency_cap.max_latency_s = {self.config.max_latency_s} s"
