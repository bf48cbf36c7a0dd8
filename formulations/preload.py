"""ODIWeP weight preloading, Chapter 6 (Eqs. (6.1)-(6.2)).

A device that is idle while another computes can load the weights of the first layer
it will run, so t^w[l, d] is paid only when layer l-1 also runs on d. The binary
``q[l, d]`` is 1 exactly then, and the block replaces the term list ``latency.weight``
(Eq. (5.6)) by Eq. (6.2).

Linearizations of q:

- ``and``: Eq. (6.1), 0 <= x[l-1,d] + x[l,d] - 2 q[l,d] <= 1 with q binary.
- ``tight``: q[l,d] = z[l-1,d,d], the diagonal of the base block's transition
  variables, which is the same AND; with the flow form of z it keeps the LP relaxation
  a shortest-path polytope.
- ``auto`` (default): ``tight`` when the base uses the flow form, ``and`` otherwise.

The first layer (normally the source pseudo layer, which has no weights) has no
predecessor; it is treated as preloaded (q = 0) since every device is idle before the
inference starts.
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, In
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.registry import formulations


@formulations.register(
    "preload",
    phase=10,
    replaces=("latency.weight",),
    doc="ODIWeP weight preloading, Ch. 6: q variables, Eqs. (6.1)-(6.2)",
)
@declare_custom_block(name="PreloadBlock")
class PreloadBlockData(ContributionData):
    """ODIWeP weight preloading (Ch. 6)."""

    CONFIG = ConfigDict()
    CONFIG.declare(
        "linearization",
        ConfigValue(
            default="auto",
            domain=In(["auto", "and", "tight"]),
            description="linearization of q",
            doc="'and' is Eq. (6.1); 'tight' sets q to the diagonal of z; 'auto' follows the base block.",
        ),
    )

    def build(self, ctx: ModelContext) -> None:
        base = ctx.base
        p = ctx.params
        mode = self.config.linearization
        if mode == "auto":
            mode = "tight" if base.config.linearization == "flow" else "and"
        self.mode = mode
        self.LAYERS_2L = pyo.Set(initialize=list(base.LAYERS)[1:], ordered=True, doc="S_{2,L}")
        self.q = pyo.Var(
            self.LAYERS_2L,
            base.DEVICES,
            domain=pyo.Binary if mode == "and" else pyo.UnitInterval,
            doc="q[l,d] = 1: layers l-1 and l both on d (no preload of l's weights)",
        )
        if mode == "and":

            def and_rule(b, l, d):
                """Eq. (6.1): q is the AND of x[l-1,d] and x[l,d].

                .. math:: 0 \\le x_{\\ell-1,d} + x_{\\ell,d} - 2 q_{\\ell,d} \\le 1
                """
                return pyo.inequality(0, base.x[l - 1, d] + base.x[l, d] - 2 * b.q[l, d], 1)

            self.q_and_Constraint = pyo.Constraint(self.LAYERS_2L, base.DEVICES, rule=and_rule, doc="Eq. (6.1)")
        else:

            def tight_rule(b, l, d):
                """q[l,d] = z[l-1,d,d]: the same AND, through the base transitions."""
                return b.q[l, d] == base.z[l - 1, d, d]

            self.q_tight_Constraint = pyo.Constraint(self.LAYERS_2L, base.DEVICES, rule=tight_rule, doc="q = diag(z)")
        didx = base.device_index
        tw, prob = p.weight_s, p.exec_prob
        self.weight_latency_s = pyo.Expression(
            expr=sum(
                prob[l] * tw[l, didx[d]] * self.q[l, d]
                for l in self.LAYERS_2L
                for d in base.DEVICES
                if tw[l, didx[d]] != 0
            ),
            doc="T^w with preloading, Eq. (6.2): sum_l sum_d t^w[l,d] q[l,d]",
        )
        ctx.terms.replace("latency.weight", "preload", self.weight_latency_s)
        for d in base.DEVICES:  # per-device split of Eq. (6.2) (docs/throughput.md)
            ctx.terms.replace(f"stage.weight@{d}", "preload", sum(
                prob[l] * tw[l, didx[d]] * self.q[l, d] for l in self.LAYERS_2L if tw[l, didx[d]] != 0))
