"""Throughput floor for CADI (Ch. 9): at least ``count`` inferences in the duration U.

The ``carbon`` objective (CF over U) rewards slow plans -- fewer inferences emit less --
so a service with a quality-of-service target states it here: I = U / tau >= count, i.e.
tau <= U / count (general form) or sum_l I_l pi_l >= count (two-device form). Needs ``cadi``.
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, PositiveFloat
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.registry import constraints


@constraints.register("min_inferences", requires=("cadi",), doc="at least count inferences in the CADI duration U")
@declare_custom_block(name="MinInferences")
class MinInferencesData(ContributionData):
    """I >= count over the duration U (Eq. (9.1))."""

    CONFIG = ConfigDict()
    CONFIG.declare("count", ConfigValue(domain=PositiveFloat, description="minimum inferences in U"))

    def build(self, ctx: ModelContext) -> None:
        if self.config.count is None:
            raise ConfigError("missing", field="constraints.min_inferences.count")
        cadi = ctx.require("cadi", "constraint min_inferences")
        self.floor_Constraint = pyo.Constraint(expr=cadi.min_inferences_constraint(float(self.config.count)),
                                               doc="I = U / tau >= count")

    def describe(self) -> str:
        return f"min_inferences.count = {self.config.count} in U"
