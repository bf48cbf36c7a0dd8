"""The base ILP on DAG networks (docs/dag.md): communication of Eq. (5.5) generalized.

On a DAG (skip connections, branches) the output of a producer v placed on d is sent to a
device d' once if any consumer u of v runs on d': fan-out is counted once per
destination device. The block replaces the term list ``latency.communication``; the
base block's x (Eq. (5.1)), memory (Eq. (5.2)), compute (Eq. (5.4)) and weight (Eq. (5.6))
terms stay as they are, taken along the execution order (the table's row order, a
topological order). The base block's z[l, d, d'] remain the transitions between
*consecutive layers of the execution order*, which is what ODIWeP preloading (Ch. 6) and
DIME bundles (Ch. 7, ranges of the execution order) read, so those mixins compose
unchanged.

Variables (for the edges (v, u) of the graph, pseudo layers included):

- ``t[v, d, d']`` in [0, 1]: v's output is sent from d to d'; the objective pushes it to
  its lower bound, so for binary x it is the OR over v's consumers on d'.
- ``flow`` (default) linearization: one flow variable ``w[v, u, d, d']`` per edge with
  sum_d' w = x[v, d] and sum_d w = x[u, d'] (the flow form of base.py, which is the AND of
  x[v, d] and x[u, d'] for binary x), and t >= w. An edge (l, l+1) of consecutive layers
  reuses the base block's z (flow form) instead of a new w, and a producer with a single
  consumer uses w (or z) directly as its t. On a chain every edge is (l, l+1) and the block
  adds no variable: the model is exactly the base ILP.
- ``and`` linearization: t[v, d, d'] >= x[v, d] + x[u, d'] - 1 for every consumer u, the
  AND of Eq. (5.3) relaxed to the one side a minimized transfer needs.

.. math:: T^x = \\sum_{v} \\sum_{d, d'} p_v \\, t^x_{v,d,d'} \\, t_{v,d,d'},
   \\quad t^x_{v,d,d'} = \\frac{bytes_v}{BW_{d,d'}} \\ \\text{(Eq. (4.3))}

with p_v the largest execution probability of v's consumers (p_{l+1} on a chain,
Sec. 6.4).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, In
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.dag import consumers, dag_transfers, transfer_prob
from layerplan.errors import ConfigError
from layerplan.registry import formulations


@formulations.register(
    "dag",
    phase=5,
    replaces=("latency.communication",),
    doc="Base ILP on DAG networks: transfers paid once per producer and destination device (docs/dag.md)",
)
@declare_custom_block(name="DagBlock")
class DagBlockData(ContributionData):
    """Communication on a DAG (docs/dag.md); added automatically for DAG tables."""

    CONFIG = ConfigDict()
    CONFIG.declare(
        "linearization",
        ConfigValue(
            default="flow",
            domain=In(["flow", "and"]),
            description="linearization of the transfer variables t",
            doc="'flow': one flow per edge (tight, reuses base z on consecutive edges); 'and': t >= x[v,d] + x[u,d'] - 1.",
        ),
    )

    def build(self, ctx: ModelContext) -> None:
        base, p = ctx.base, ctx.params
        if base.config.mutable_bandwidth:
            raise ConfigError("mutable_bandwidth (sweeps) is not supported on DAG networks", field="model.mutable_bandwidth")
        didx = base.device_index
        dev = list(base.DEVICES)
        cons = consumers(p)
        flow = self.config.linearization == "flow"
        base_flow = base.config.linearization == "flow"
        self.PRODUCERS = pyo.Set(initialize=sorted(cons), ordered=True, doc="layers whose output some layer reads")
        edges = [(v, u) for v in sorted(cons) for u in cons[v]]
        self.EDGES = pyo.Set(initialize=edges, dimen=2, ordered=True, doc="data edges (v, u), pseudo layers included")
        # the flow variable of each edge: base z for (l, l+1) when base uses the flow form, else w
        new_w = [(v, u) for (v, u) in edges if flow and not (base_flow and u == v + 1)]
        self.W_EDGES = pyo.Set(initialize=new_w, dimen=2, ordered=True, doc="edges with their own flow variable w")
        self.w = pyo.Var(self.W_EDGES, base.DEVICES, base.DEVICES, domain=pyo.UnitInterval,
                         doc="w[v,u,d,d'] = 1: v on d and u on d' (flow form)")

        def flow_var(v, u, d, e):
            return base.z[v, d, e] if (v, u) not in self._w_set else self.w[v, u, d, e]

        self._w_set = set(new_w)

        def w_out_rule(b, v, u, d):
            """Flow form per edge: sum_d' w[v,u,d,d'] = x[v,d]."""
            return sum(b.w[v, u, d, e] for e in b_dev) == base.x[v, d]

        def w_in_rule(b, v, u, e):
            """Flow form per edge: sum_d w[v,u,d,d'] = x[u,d']."""
            return sum(b.w[v, u, d, e] for d in b_dev) == base.x[u, e]

        b_dev = dev
        self.w_out_Constraint = pyo.Constraint(self.W_EDGES, base.DEVICES, rule=w_out_rule, doc="flow form of w")
        self.w_in_Constraint = pyo.Constraint(self.W_EDGES, base.DEVICES, rule=w_in_rule, doc="flow form of w")
        # producers with several consumers get t >= each consumer's flow (or AND); a single
        # consumer's flow is its t (flow form only)
        multi = [v for v in sorted(cons) if len(cons[v]) > 1 or not flow]
        self.T_PRODUCERS = pyo.Set(initialize=multi, ordered=True, doc="producers with a transfer variable t")
        self.t = pyo.Var(self.T_PRODUCERS, base.DEVICES, base.DEVICES, domain=pyo.UnitInterval,
                         doc="t[v,d,d'] = 1: v's output is sent from d to d' (once, whatever the consumers on d')")
        t_edges = [(v, u) for v in multi for u in cons[v]]
        self.T_EDGES = pyo.Set(initialize=t_edges, dimen=2, ordered=True, doc="edges (v, u) of the producers with a t")
        if flow:

            def t_rule(b, v, u, d, e):
                """Fan-out counted once per destination: t[v,d,d'] >= w[v,u,d,d'] for each consumer u."""
                return b.t[v, d, e] >= flow_var(v, u, d, e)

            self.t_Constraint = pyo.Constraint(self.T_EDGES, base.DEVICES, base.DEVICES, rule=t_rule, doc="t >= w")
        else:

            def t_and_rule(b, v, u, d, e):
                """AND lower side (Eq. (5.3)): t[v,d,d'] >= x[v,d] + x[u,d'] - 1 for each consumer u."""
                return b.t[v, d, e] >= base.x[v, d] + base.x[u, e] - 1

            self.t_and_Constraint = pyo.Constraint(self.T_EDGES, base.DEVICES, base.DEVICES, rule=t_and_rule,
                                                   doc="t >= x + x - 1")

        def t_src_rule(b, v, d, e):
            """Upper side: no transfer from d unless v runs on d, t[v,d,d'] <= x[v,d]."""
            return b.t[v, d, e] <= base.x[v, d]

        def t_dst_rule(b, v, d, e):
            """Upper side: no transfer to d' unless a consumer runs there, t[v,d,d'] <= sum_u x[u,d']."""
            return b.t[v, d, e] <= sum(base.x[u, e] for u in cons[v])

        # with both upper sides t is exactly the OR for binary x, so a near-zero cost cannot leave it
        # at 1 within the solver's absolute gap and the reported T^x is the plan's own
        self.t_src_Constraint = pyo.Constraint(self.T_PRODUCERS, base.DEVICES, base.DEVICES, rule=t_src_rule,
                                               doc="t <= x[v,d]")
        self.t_dst_Constraint = pyo.Constraint(self.T_PRODUCERS, base.DEVICES, base.DEVICES, rule=t_dst_rule,
                                               doc="t <= sum_u x[u,d']")

        def transfer(v, d, e):
            return self.t[v, d, e] if v in self.T_PRODUCERS else flow_var(v, cons[v][0], d, e)

        self._transfer = transfer
        tx = p.comm_s
        self.communication_latency_s = pyo.Expression(
            expr=sum(
                transfer_prob(p, cons[v]) * tx[v, didx[d], didx[e]] * transfer(v, d, e)
                for v in sorted(cons)
                for d in dev
                for e in dev
                if tx[v, didx[d], didx[e]] != 0
            ),
            doc="T^x on a DAG (Eq. (5.5) generalized): sum_v sum_d sum_d' p_v t^x[v,d,d'] t[v,d,d']",
        )
        ctx.terms.replace("latency.communication", "dag", self.communication_latency_s)

    def transfer_var(self, v: int, d, e):
        """The variable (or expression) that is 1 when v's output is sent from d to d'."""
        return self._transfer(v, d, e)

    def report(self, ctx: ModelContext) -> dict:
        """Every transfer of the plan: tensor, from, to, the consumers it serves."""
        p = ctx.params
        a = ctx.base.assignment()
        return {
            "edges": sum(len(c) for c in consumers(p).values()),
            "transfers": [
                {"tensor": p.layers[v], "from": p.devices[d], "to": p.devices[e], "consumers": [p.layers[u] for u in us]}
                for v, d, e, us in dag_transfers(p, a) if d != e
            ],
        }
