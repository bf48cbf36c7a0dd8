"""At most K device transitions along the chain (a cap on distribution overhead).

.. math:: \\sum_{\\ell \\in S_{L-1}} \\sum_{d \\ne d'} z_{\\ell,d,d'} \\le K
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, NonNegativeInt
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.registry import constraints


@constraints.register("max_transitions", doc="at most K hand-overs between devices")
@declare_custom_block(name="MaxTransitions")
class MaxTransitionsData(ContributionData):
    """Limit the number of device-to-device hand-overs to ``max_transitions``."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_transitions", ConfigValue(default=1, domain=NonNegativeInt, description="K, hand-overs allowed"))

    def build(self, ctx: ModelContext) -> None:
        b = ctx.base
        self.cap_Constraint = pyo.Constraint(
            expr=sum(b.z[l, d, e] for l in b.TRANSITIONS for d in b.DEVICES for e in b.DEVICES if d != e)
            <= self.config.max_transitions,
            doc="sum of off-diagonal z <= K",
        )

    def describe(self) -> str:
        return f"max_transitions.max_transitions = {self.config.max_transitions}"
