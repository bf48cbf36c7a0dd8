"""Base ILP for distributed inference, Chapter 5 (Eqs. (5.1)-(5.6)).

Variables ``x[l, d]`` (layer l on device d) and ``z[l, d, d']`` (layer l on d and layer
l+1 on d'), the assignment constraint Eq. (5.1), the memory constraint Eq. (5.2), the
transition constraint in one of two linearizations, and the three latency terms
Eqs. (5.4)-(5.6) registered in the term lists ``latency.compute``,
``latency.communication`` and ``latency.weight``.

Linearizations of z:

- ``and``: the thesis' Eq. (5.3), 0 <= x[l,d] + x[l+1,d'] - 2 z[l,d,d'] <= 1 with z binary.
- ``flow`` (default): sum_d' z[l,d,d'] = x[l,d] and sum_d z[l,d,d'] = x[l+1,d'] with z in
  [0, 1]. For binary x this forces the same z, and its LP relaxation is the shortest-path
  polytope of the layered (layer, device) graph, so HiGHS closes the gap at the root
  node while the AND form branches: on random chains (``python -m
  layerplan.experiments.benchmark``) 100 layers x 8 devices took 0.9 s with flow and
  up to 11 s with AND, and at 16 devices AND hit a 60 s limit with a 24-36 % gap.

Layers are weighted by their execution probability p_l (early exit, Sec. 6.4): a layer
that runs with probability p contributes p times its compute and weight latency, and a
transfer into layer l+1 contributes p_{l+1} times its communication latency; with every
p_l = 1 this is exactly Eqs. (5.4)-(5.6).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import Bool, ConfigDict, ConfigValue, In
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.registry import formulations

LATENCY_LISTS = {
    "latency.compute": "compute latency T^c, Eq. (5.4)",
    "latency.communication": "communication latency T^x, Eq. (5.5)",
    "latency.weight": "weight-loading latency T^w, Eq. (5.6)",
}


@formulations.register("base", phase=0, doc="Base ILP of Ch. 5: x, z, Eqs. (5.1)-(5.6)")
@declare_custom_block(name="BaseILP")
class BaseILPData(ContributionData):
    """Base ILP of Chapter 5."""

    CONFIG = ConfigDict()
    CONFIG.declare(
        "linearization",
        ConfigValue(
            default="flow",
            domain=In(["flow", "and"]),
            description="linearization of the transition variables z",
            doc="'and' is Eq. (5.3) with binary z; 'flow' is the tight flow form (default).",
        ),
    )
    CONFIG.declare(
        "memory",
        ConfigValue(default=True, domain=Bool, description="enforce the memory constraint Eq. (5.2)"),
    )
    CONFIG.declare(
        "mutable_bandwidth",
        ConfigValue(
            default=False,
            domain=Bool,
            description="make 1/BW[d,d'] a mutable parameter (re-solve a built model at other bandwidths)",
            doc="Used by layerplan.sweep: T^x becomes sum out_bytes * inv_bandwidth[d,d'] * z, updated in place.",
        ),
    )

    def build(self, ctx: ModelContext) -> None:
        p = ctx.params
        L, D = p.n_layers, p.n_devices
        prob = p.exec_prob
        self.LAYERS = pyo.Set(initialize=range(L), ordered=True, doc="S_L: layers incl. pseudo layers")
        self.DEVICES = pyo.Set(initialize=p.devices, ordered=True, doc="S_D: devices")
        self.TRANSITIONS = pyo.Set(initialize=range(L - 1), ordered=True, doc="S_{L-1}: layers with a successor")
        dev = list(p.devices)
        didx = {d: i for i, d in enumerate(dev)}
        self.device_index = didx

        self.x = pyo.Var(self.LAYERS, self.DEVICES, domain=pyo.Binary, doc="x[l,d] = 1: layer l runs on device d")
        flow = self.config.linearization == "flow"
        self.z = pyo.Var(
            self.TRANSITIONS,
            self.DEVICES,
            self.DEVICES,
            domain=pyo.UnitInterval if flow else pyo.Binary,
            doc="z[l,d,d'] = 1: layer l on d and layer l+1 on d'",
        )

        def assign_rule(b, l):
            """Eq. (5.1): each layer runs on exactly one device.

            .. math:: \\sum_{d \\in S_D} x_{\\ell,d} = 1 \\quad \\forall \\ell \\in S_L
            """
            return sum(b.x[l, d] for d in b.DEVICES) == 1

        self.assign_Constraint = pyo.Constraint(self.LAYERS, rule=assign_rule, doc="Eq. (5.1)")

        if self.config.memory:

            def memory_rule(b, d):
                """Eq. (5.2): the weights on a device fit in its memory.

                .. math:: \\sum_{\\ell} w_\\ell \\alpha \\, x_{\\ell,d} \\le M_d
                """
                cap = p.memory_B[didx[d]]
                if cap == float("inf"):
                    return pyo.Constraint.Skip
                heavy = [l for l in b.LAYERS if p.weight_bytes[l] > 0]
                if not heavy:
                    return pyo.Constraint.Skip
                return sum(p.weight_bytes[l] * b.x[l, d] for l in heavy) <= cap

            self.memory_Constraint = pyo.Constraint(self.DEVICES, rule=memory_rule, doc="Eq. (5.2)")

        if flow:

            def out_rule(b, l, d):
                """Flow form: the transition out of (l, d) happens iff x[l,d].

                .. math:: \\sum_{d'} z_{\\ell,d,d'} = x_{\\ell,d}
                """
                return sum(b.z[l, d, e] for e in b.DEVICES) == b.x[l, d]

            def in_rule(b, l, e):
                """Flow form: the transition into (l+1, d') happens iff x[l+1,d'].

                .. math:: \\sum_{d} z_{\\ell,d,d'} = x_{\\ell+1,d'}
                """
                return sum(b.z[l, d, e] for d in b.DEVICES) == b.x[l + 1, e]

            self.z_out_Constraint = pyo.Constraint(self.TRANSITIONS, self.DEVICES, rule=out_rule, doc="flow form of z")
            self.z_in_Constraint = pyo.Constraint(self.TRANSITIONS, self.DEVICES, rule=in_rule, doc="flow form of z")
        else:

            def and_rule(b, l, d, e):
                """Eq. (5.3): z is the logical AND of x[l,d] and x[l+1,d'].

                .. math:: 0 \\le x_{\\ell,d} + x_{\\ell+1,d'} - 2 z_{\\ell,d,d'} \\le 1
                """
                return pyo.inequality(0, b.x[l, d] + b.x[l + 1, e] - 2 * b.z[l, d, e], 1)

            self.z_and_Constraint = pyo.Constraint(self.TRANSITIONS, self.DEVICES, self.DEVICES, rule=and_rule, doc="Eq. (5.3)")

        # Preassignment (Sec. 5.2): "we simply set x[l,d] = 1".
        for l, d in p.pinned.items():
            for e in dev:
                self.x[l, e].fix(1 if e == dev[d] else 0)

        tc, tw, tx = p.compute_s, p.weight_s, p.comm_s
        self.compute_latency_s = pyo.Expression(
            expr=sum(prob[l] * tc[l, didx[d]] * self.x[l, d] for l in self.LAYERS for d in self.DEVICES if tc[l, didx[d]] != 0),
            doc="T^c, Eq. (5.4): sum_l sum_d t^c[l,d] x[l,d]",
        )
        if self.config.mutable_bandwidth:
            if p.bandwidth_Bps is None:
                raise ConfigError("mutable_bandwidth needs the link bandwidths in the parameters", field="model")
            self.inv_bandwidth = pyo.Param(
                self.DEVICES, self.DEVICES, mutable=True,
                initialize={(d, e): 1.0 / p.bandwidth_Bps[didx[d], didx[e]] for d in dev for e in dev},
                doc="1 / BW[d,d'] in s/B, mutable (Sec. 4.3)",
            )
            out_bytes = p.out_bytes
            self.communication_latency_s = pyo.Expression(
                expr=sum(
                    prob[l + 1] * out_bytes[l] * self.inv_bandwidth[d, e] * self.z[l, d, e]
                    for l in self.TRANSITIONS
                    for d in self.DEVICES
                    for e in self.DEVICES
                    if out_bytes[l] != 0
                ),
                doc="T^x, Eq. (5.5) with t^x = out_bytes[l] / BW[d,d'] as a mutable parameter",
            )
        else:
            self.communication_latency_s = pyo.Expression(
                expr=sum(
                    prob[l + 1] * tx[l, didx[d], didx[e]] * self.z[l, d, e]
                    for l in self.TRANSITIONS
                    for d in self.DEVICES
                    for e in self.DEVICES
                    if tx[l, didx[d], didx[e]] != 0
                ),
                doc="T^x, Eq. (5.5): sum_l sum_d sum_d' t^x[l,d,d'] z[l,d,d']",
            )
        self.weight_latency_s = pyo.Expression(
            expr=sum(prob[l] * tw[l, didx[d]] * self.x[l, d] for l in self.LAYERS for d in self.DEVICES if tw[l, didx[d]] != 0),
            doc="T^w, Eq. (5.6): sum_l sum_d t^w[l,d] x[l,d]",
        )
        for name, doc in LATENCY_LISTS.items():
            ctx.terms.declare(name, "s", doc)
        ctx.terms.add("latency.compute", "base", self.compute_latency_s)
        ctx.terms.add("latency.communication", "base", self.communication_latency_s)
        ctx.terms.add("latency.weight", "base", self.weight_latency_s)
        # Per-device split of Eqs. (5.4) and (5.6), the stages of a pipeline (docs/throughput.md);
        # the mixins that replace latency.compute / latency.weight replace these too.
        for d in dev:
            k = didx[d]
            ctx.terms.declare(f"stage.compute@{d}", "s", f"compute time of {d} per inference (T^c on {d})")
            ctx.terms.declare(f"stage.weight@{d}", "s", f"weight-loading time of {d} per inference (T^w on {d})")
            ctx.terms.add(f"stage.compute@{d}", "base",
                          sum(prob[l] * tc[l, k] * self.x[l, d] for l in self.LAYERS if tc[l, k] != 0))
            ctx.terms.add(f"stage.weight@{d}", "base",
                          sum(prob[l] * tw[l, k] * self.x[l, d] for l in self.LAYERS if tw[l, k] != 0))

    def assignment(self) -> list[int]:
        """Device index of each layer in the loaded solution."""
        dev = list(self.DEVICES)
        out = []
        for l in self.LAYERS:
            vals = [pyo.value(self.x[l, d]) for d in dev]
            out.append(max(range(len(dev)), key=lambda i: vals[i]))
        return out
