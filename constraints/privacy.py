"""Privacy constraint (Sec. 8.3): the first K real layers run on a private (edge) device.

.. math:: x_{\\ell, d_{priv}} = 1 \\quad \\forall \\ell \\in S_K
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, NonNegativeInt
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.registry import constraints


def first_k_on(block, ctx: ModelContext, k: int, device: str | None, where: str) -> None:
    """Add ``privacy_Constraint``: x[l, device] = 1 for the first k real layers."""
    p = ctx.params
    dev = device or ctx.scenario.source_device
    if dev is None:
        raise ConfigError("no private device: give one (there is no source device)", field=f"{where}.device")
    ctx.check_device(dev, f"{where}.device")
    real = [l for l, kind in enumerate(p.pseudo) if kind is None]
    if k > len(real):
        raise ConfigError(f"k={k} exceeds the {len(real)} real layers", field=f"{where}.k")
    block.private_device = dev
    block.PRIVATE = pyo.Set(initialize=real[:k], ordered=True, doc="S_K: the first K real layers")
    block.privacy_Constraint = pyo.Constraint(block.PRIVATE, rule=lambda b, l: ctx.base.x[l, dev] == 1,
                                              doc="x[l, d_priv] = 1 for l in S_K, Sec. 8.3")


@constraints.register("privacy", doc="the first K real layers on a private device (Sec. 8.3)")
@declare_custom_block(name="PrivacyConstraint")
class PrivacyConstraintData(ContributionData):
    """First ``k`` real layers on ``device`` (default: the source device)."""

    CONFIG = ConfigDict()
    CONFIG.declare("k", ConfigValue(default=1, domain=NonNegativeInt, description="K, layers kept private"))
    CONFIG.declare("device", ConfigValue(default=None, description="private device (default: the source device)"))

    def build(self, ctx: ModelContext) -> None:
        first_k_on(self, ctx, self.config.k, self.config.device, "constraints.privacy")

    def describe(self) -> str:
        return f"privacy.k = {self.config.k} layers on {self.private_device}"
