"""Latency objective, Sec. 5.3: minimize T = T^c + T^x + T^w.

It sums every term list named ``latency.*`` (compute, communication, weight, and any a
mixin or plugin declares), so it stays right whichever mixins replaced which terms.
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.registry import objectives


@objectives.register("latency", doc="minimize global latency T = T^c + T^x + T^w (Sec. 5.3)")
@declare_custom_block(name="LatencyObjective")
class LatencyObjectiveData(ContributionData):
    """Minimize the global inference latency (Sec. 5.3)."""

    CONFIG = ConfigDict()

    def build(self, ctx: ModelContext) -> None:
        self.total_latency_s = pyo.Expression(expr=ctx.terms.total("latency."), doc="T = T^c + T^x + T^w")
        self.Objective = pyo.Objective(expr=self.total_latency_s, sense=pyo.minimize, doc="min T, Sec. 5.3")
