"""Throughput of pipelined inference and the energy-throughput trade-off (issue 14).

``objective=throughput`` minimizes the cycle (bottleneck) time tau of a stream of
inferences pipelined across the devices; throughput = 1 / tau. It composes with ``base``,
``preload``, ``dime``/``jointdnn`` and ``freddi``: the per-device compute and weight
times come from the term lists ``stage.compute@<d>`` and ``stage.weight@<d>`` (the
per-device split of Eqs. (5.4), (5.6), (6.2) and (7.2), declared by ``base`` and
replaced by the mixins that replace ``latency.compute`` / ``latency.weight``), the
transfers from the base transitions z (Eq. (5.5) split by link). The exact definitions
are in :mod:`layerplan.stream` (also the brute-force oracle of the tests):

    tau >= S_d = T^c_d + T^w_d / b + T^int_d (+ T^send_d [+ T^recv_d] without overlap)
    tau >= X_{d,e} = sum_l p_{l+1} t^x[l, d, e] z[l, d, e]             (d != e)
    tau >= N_d = T^send_d + T^recv_d                                    (nic: shared)

the steady-state form of CADI's cycle, Eq. (9.1) (Fig. 9.2): a device starts inference
n + 1 when its part of inference n is done. With ``energy_weight`` a > 0 the objective is
DONNA's scalarization (Alshams et al., IEEE EDGE 2024)

    min (1 - a) tau / tau_ref + a sum_d w_d E_d / E_ref

with E_d = E^c_d + E^x_d + P^idle_d (tau u_d - S_d) per inference (the hold energy of
Eq. (9.2) over the cycle) and per-device or per-tier weights w_d (HiDist). The
epsilon-constraint front uses ``max_cycle_s`` / ``max_energy_J``
(layerplan.experiments.pareto.throughput_front).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import Bool, ConfigDict, ConfigValue, In, NonNegativeFloat, PositiveFloat, PositiveInt
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError, DataError
from layerplan.registry import objectives
from layerplan.stream import DevicePower, StreamOptions, evaluate


def _weights(value):
    if value is None:
        return {}
    try:
        out = {str(k): float(v) for k, v in dict(value).items()}
    except (TypeError, ValueError):
        raise ValueError(f"energy_weights must map device or tier names to numbers, got {value!r}") from None
    bad = [k for k, v in out.items() if not v >= 0]
    if bad:
        raise ValueError(f"energy weight of {bad[0]!r} must be >= 0, got {out[bad[0]]}")
    return out


def _fraction(value):
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"energy_weight must be in [0, 1], got {value!r}")
    return v


def _weight_list(value):
    vals = [_fraction(v) for v in (value or [])]
    if not vals:
        raise ValueError("front_weights must list at least one a in [0, 1]")
    return tuple(vals)


def stream_mode(ctx: ModelContext) -> str:
    if "bundles" in ctx.shared:
        return "bundles"
    return "preload" if "preload" in ctx.formulations else "base"


def single_device_refs(params, mode, opts, power, weights, freddi_devices):
    """(tau_ref, E_ref): the best cycle and the best weighted energy over single-device plans."""
    taus, energies = [], []
    for d in range(params.n_devices):
        a = [params.pinned.get(l, d) for l in range(params.n_layers)]
        if any(params.pseudo[l] is None and a[l] != d for l in range(params.n_layers)):
            continue
        from layerplan.oracle import feasible_memory

        if not feasible_memory(params, a):
            continue
        try:
            m = evaluate(params, a, mode=mode, opts=opts, power=power, freddi_devices=freddi_devices)
        except DataError:  # a device without a profile for the whole chain
            continue
        taus.append(m.cycle_s)
        energies.append(m.weighted_energy_J(weights))
    tau = min(taus) if taus else 1.0
    e = min((x for x in energies if x > 0), default=1.0)
    return (tau if tau > 0 else 1.0), e


@objectives.register("throughput", doc="minimize the pipeline cycle tau (throughput 1/tau), optionally traded "
                                       "against stream energy (DONNA, HiDist)")
@declare_custom_block(name="ThroughputObjective")
class ThroughputObjectiveData(ContributionData):
    """Pipelined throughput: min tau, or min (1 - a) tau / tau_ref + a E / E_ref."""

    CONFIG = ConfigDict()
    CONFIG.declare("overlap", ConfigValue(default=True, domain=Bool,
                                          description="computation and communication of a stage overlap"))
    CONFIG.declare("stage_comm", ConfigValue(default="both", domain=In(["both", "send"]),
                                             description="without overlap: a stage also pays its sends and receives "
                                                         "(both) or its sends (send, CADI's B_d)"))
    CONFIG.declare("nic", ConfigValue(default="none", domain=In(["none", "shared"]),
                                      description="shared: a device's incoming and outgoing transfers share one NIC"))
    CONFIG.declare("microbatch", ConfigValue(default=1, domain=PositiveInt,
                                             description="microbatch size b: weight loads are paid once per microbatch"))
    CONFIG.declare("weight_load", ConfigValue(default=True, domain=Bool,
                                              description="count the weight loads (stage.weight@<d>) in the stage time"))
    CONFIG.declare("energy_weight", ConfigValue(default=0.0, domain=_fraction,
                                                description="DONNA's a in [0, 1]: 0 = throughput only"))
    CONFIG.declare("energy_weights", ConfigValue(default=None, domain=_weights,
                                                 description="w_d per device or per tier (edge | hub | cloud), default 1"))
    CONFIG.declare("with_energy", ConfigValue(default=False, domain=Bool,
                                              description="build the energy expressions even when a = 0"))
    CONFIG.declare("idle_unused", ConfigValue(default=False, domain=Bool,
                                              description="a device that runs no layer idles (default: it is off)"))
    CONFIG.declare("cycle_ref_s", ConfigValue(default=None, domain=PositiveFloat,
                                              description="tau_ref (default: best single-device cycle)"))
    CONFIG.declare("energy_ref_J", ConfigValue(default=None, domain=PositiveFloat,
                                               description="E_ref (default: best single-device weighted energy)"))
    CONFIG.declare("max_cycle_s", ConfigValue(default=None, domain=PositiveFloat,
                                              description="epsilon constraint tau <= max_cycle_s (optional)"))
    CONFIG.declare("max_energy_J", ConfigValue(default=None, domain=NonNegativeFloat,
                                               description="epsilon constraint sum_d w_d E_d <= max_energy_J (optional)"))
    CONFIG.declare("symmetry_breaking", ConfigValue(default=False, domain=Bool,
                                                    description="order interchangeable devices (identical parameters, "
                                                                "no pins; base/preload only)"))
    CONFIG.declare("front", ConfigValue(default="none", domain=In(["none", "exact", "scalarized", "both"]),
                                        description="also compute the exact epsilon-constraint front and/or DONNA's "
                                                    "scalarized points (report: front, scalarized)"))
    CONFIG.declare("front_weights", ConfigValue(default=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0), domain=_weight_list,
                                                description="values of a for the scalarized points"))
    CONFIG.declare("front_max_points", ConfigValue(default=50, domain=PositiveInt,
                                                   description="stop the exact front after this many points"))
    CONFIG.declare("front_delta_rel", ConfigValue(default=1e-6, domain=PositiveFloat,
                                                  description="epsilon step below the last cycle, relative"))
    CONFIG.declare("front_delta_abs", ConfigValue(default=1e-7, domain=PositiveFloat,
                                                  description="epsilon step floor, s (above the solver's feasibility "
                                                              "tolerance)"))

    def options(self) -> StreamOptions:
        c = self.config
        return StreamOptions(overlap=bool(c.overlap), stage_comm=c.stage_comm, nic=c.nic, microbatch=int(c.microbatch),
                             weight_load=bool(c.weight_load), idle_unused=bool(c.idle_unused))

    def device_weight(self, ctx: ModelContext, d: str) -> float:
        w = self.config.energy_weights or {}
        cls = ctx.params.device_classes[ctx.params.devices.index(d)] if ctx.params.device_classes else None
        return float(w.get(d, w.get(cls, 1.0)))

    def build(self, ctx: ModelContext) -> None:
        p, base = ctx.params, ctx.base
        if getattr(base.config, "mutable_bandwidth", False):
            raise ConfigError("throughput reads fixed transfer times; it cannot be combined with model.mutable_bandwidth",
                              field="objective")
        for k in self.config.energy_weights or {}:
            if k not in p.devices and k not in ("edge", "hub", "cloud"):
                raise ConfigError(f"unknown device or tier {k!r} (devices: {', '.join(p.devices)}; tiers: edge, hub, "
                                  "cloud)", field=f"objective.energy_weights.{k}")
        self.mode = stream_mode(ctx)
        opts = self.options()
        didx = base.device_index
        prob, tx = p.exec_prob, p.comm_s
        T = list(base.TRANSITIONS)
        links = [(d, e) for d in base.DEVICES for e in base.DEVICES if d != e]
        self.LINKS = pyo.Set(initialize=links, dimen=2, ordered=True, doc="ordered device pairs (d, e), d != e")

        dag = ctx.active.get("formulation:dag")
        if dag is not None:  # a DAG table: the dag block's transfers, each tensor once per destination device
            from layerplan.dag import consumers, transfer_prob

            cons = consumers(p)
            T = sorted(cons)

            def xfer(v, d, e):
                return transfer_prob(p, cons[v]) * tx[v, didx[d], didx[e]] * dag.transfer_var(v, d, e)
        else:
            def xfer(l, d, e):
                return prob[l + 1] * tx[l, didx[d], didx[e]] * base.z[l, d, e]

        self.link_s = pyo.Expression(self.LINKS, rule=lambda b, d, e: sum(
            xfer(l, d, e) for l in T if tx[l, didx[d], didx[e]] != 0),
            doc="X_{d,e}: transfer time d -> e per inference, s (Eq. (5.5) per link; on a DAG per tensor)")
        sent = {d: sum(self.link_s[d, e] for e in base.DEVICES if e != d) for d in base.DEVICES}
        recv = {d: sum(self.link_s[e, d] for e in base.DEVICES if e != d) for d in base.DEVICES}
        internal = {d: sum(xfer(l, d, d) for l in T if tx[l, didx[d], didx[d]] != 0) for d in base.DEVICES}
        wfac = (1.0 / int(opts.microbatch)) if opts.weight_load else 0.0

        def busy(d):
            return ctx.terms.expr(f"stage.compute@{d}") + wfac * ctx.terms.expr(f"stage.weight@{d}") + internal[d]

        self.busy_s = pyo.Expression(base.DEVICES, rule=lambda b, d: busy(d),
                                     doc="T^c_d + T^w_d / b + internal transfers of d, s per inference")

        def stage(b, d):
            comm = 0.0 if opts.overlap else sent[d] + (recv[d] if opts.stage_comm == "both" else 0.0)
            return b.busy_s[d] + comm

        self.stage_s = pyo.Expression(base.DEVICES, rule=stage, doc="S_d: stage time of d per inference, s")
        M = self._big_m(ctx)
        self.big_M_s = M
        self.cycle_s = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, M), doc="tau: pipeline cycle (bottleneck), s")
        self.cycle_stage_Constraint = pyo.Constraint(base.DEVICES, rule=lambda b, d: b.cycle_s >= b.stage_s[d],
                                                     doc="tau >= S_d (Eq. (9.1), each device)")
        self.cycle_link_Constraint = pyo.Constraint(
            self.LINKS, rule=lambda b, d, e: b.cycle_s >= b.link_s[d, e] if any(
                tx[l, didx[d], didx[e]] != 0 for l in T) else pyo.Constraint.Skip,
            doc="tau >= X_{d,e} (each link, each direction)")
        if opts.nic == "shared":
            self.nic_s = pyo.Expression(base.DEVICES, rule=lambda b, d: sent[d] + recv[d],
                                        doc="N_d: time d's NIC sends and receives per inference, s")
            self.cycle_nic_Constraint = pyo.Constraint(base.DEVICES, rule=lambda b, d: b.cycle_s >= b.nic_s[d],
                                                       doc="tau >= N_d (shared NIC)")
        a = float(self.config.energy_weight)
        front = self.config.front != "none"
        self.has_energy = a > 0 or self.config.with_energy or self.config.max_energy_J is not None or front
        self.power = DevicePower.from_scenario(ctx.scenario)
        self.freddi_devices = list(ctx.shared.get("energy_devices") or []) if "freddi" in ctx.formulations else []
        weights = {d: self.device_weight(ctx, d) for d in p.devices}
        self.weights = weights
        if self.has_energy:
            self._build_energy(ctx, sent, recv, M)
        pairs = self.interchangeable_pairs(ctx) if self.config.symmetry_breaking else []
        if pairs:
            self.SYMMETRIC = pyo.Set(initialize=pairs, dimen=2, ordered=True,
                                     doc="(d, e): interchangeable devices, d before e in S_D")

            def sym_rule(b, d, e, l):
                """e runs layer l only if d runs an earlier layer (relabelling d and e changes no metric)."""
                earlier = sum(base.x[k, d] for k in base.LAYERS if k < l)
                return base.x[l, e] <= earlier if l > 0 else base.x[l, e] == 0

            self.symmetry_Constraint = pyo.Constraint(self.SYMMETRIC, base.LAYERS, rule=sym_rule,
                                                      doc="symmetry breaking between interchangeable devices")
        if self.config.max_cycle_s is not None or front:
            self.max_cycle_s = pyo.Param(mutable=True, initialize=self.config.max_cycle_s or M, doc="epsilon on tau, s")
            self.cycle_cap_Constraint = pyo.Constraint(expr=self.cycle_s <= self.max_cycle_s, doc="tau <= max_cycle_s")
            if self.config.max_cycle_s is None:
                self.cycle_cap_Constraint.deactivate()
        if self.config.max_energy_J is not None or front:
            self.max_energy_J = pyo.Param(mutable=True, initialize=self.config.max_energy_J or 0.0,
                                          doc="epsilon on energy, J")
            self.energy_cap_Constraint = pyo.Constraint(expr=self.weighted_energy_J <= self.max_energy_J,
                                                        doc="sum_d w_d E_d <= max_energy_J")
            if self.config.max_energy_J is None:
                self.energy_cap_Constraint.deactivate()
        if a > 0 or front:
            tref, eref = self.config.cycle_ref_s, self.config.energy_ref_J
            if tref is None or eref is None:
                t0, e0 = single_device_refs(p, self.mode, opts, self.power, weights, self.freddi_devices)
                tref, eref = tref or t0, eref or e0
            self.cycle_ref, self.energy_ref = float(tref), float(eref)
            self.energy_weight = pyo.Param(mutable=True, initialize=a, doc="DONNA's a (mutable for the front sweep)")
            self.Objective = pyo.Objective(
                expr=(1 - self.energy_weight) * self.cycle_s / self.cycle_ref
                + self.energy_weight * self.weighted_energy_J / self.energy_ref,
                sense=pyo.minimize, doc="min (1 - a) tau / tau_ref + a sum_d w_d E_d / E_ref (DONNA)")
            if front:
                self.front_energy_Objective = pyo.Objective(expr=self.weighted_energy_J, sense=pyo.minimize,
                                                            doc="min sum_d w_d E_d (epsilon-constraint step)")
                self.front_cycle_Objective = pyo.Objective(expr=self.cycle_s, sense=pyo.minimize,
                                                           doc="min tau (lexicographic step)")
                self.front_energy_Objective.deactivate()
                self.front_cycle_Objective.deactivate()
        else:
            self.cycle_ref = self.energy_ref = None
            self.Objective = pyo.Objective(expr=self.cycle_s, sense=pyo.minimize, doc="min tau (max throughput)")

    def interchangeable_pairs(self, ctx: ModelContext) -> list[tuple[str, str]]:
        """Consecutive pairs (d, e) of devices that no metric can tell apart: the same latency,
        weight, memory and transfer parameters (to every other device and between themselves),
        powers, energy weight and tier, and no pinned layer. Only with the analytic model
        (``base``/``preload``) and no constraint but ``latency_cap``, where relabelling d and e
        maps every plan to one with the same cycle and energy."""
        import numpy as np

        p = ctx.params
        if self.mode == "bundles" or any(k.startswith("constraint:") and k != "constraint:latency_cap"
                                         for k in ctx.active):
            return []
        if set(ctx.formulations) - {"base", "preload"}:
            return []
        pinned = set(p.pinned.values())
        pw = self.power
        D = p.n_devices

        def same(a: int, b: int) -> bool:
            na, nb = p.devices[a], p.devices[b]
            if a in pinned or b in pinned:
                return False
            if (pw.active_W.get(na), pw.idle_W.get(na), pw.comm_W.get(na)) != \
                    (pw.active_W.get(nb), pw.idle_W.get(nb), pw.comm_W.get(nb)):
                return False
            if self.weights[na] != self.weights[nb] or p.memory_B[a] != p.memory_B[b]:
                return False
            if p.device_classes and p.device_classes[a] != p.device_classes[b]:
                return False
            if p.radios and p.radios[a] != p.radios[b]:
                return False
            if not (np.array_equal(p.compute_s[:, a], p.compute_s[:, b])
                    and np.array_equal(p.weight_s[:, a], p.weight_s[:, b])):
                return False
            tx = p.comm_s
            others = [e for e in range(D) if e not in (a, b)]
            return (np.array_equal(tx[:, a, a], tx[:, b, b]) and np.array_equal(tx[:, a, b], tx[:, b, a])
                    and all(np.array_equal(tx[:, a, e], tx[:, b, e]) and np.array_equal(tx[:, e, a], tx[:, e, b])
                            for e in others))

        pairs = []
        for a in range(D):
            for b in range(a + 1, D):
                if same(a, b):
                    pairs.append((p.devices[a], p.devices[b]))
                    break  # chain a < b < c: consecutive pairs suffice
        return pairs

    def _big_m(self, ctx: ModelContext) -> float:
        """An upper bound of every stage, link and NIC time over all plans."""
        p = ctx.params
        prob = p.exec_prob
        if ctx.active.get("formulation:dag") is not None:  # a tensor may go to every device once
            from layerplan.dag import consumers, transfer_prob

            xfer = sum(transfer_prob(p, us) * float(p.comm_s[v].max()) * p.n_devices for v, us in consumers(p).items())
        else:
            xfer = sum(float((prob[l + 1] * p.comm_s[l]).max()) for l in range(p.n_layers - 1))
        if self.mode == "bundles":
            from layerplan.formulations.cadi import busy_upper_bound_s

            comp = max(busy_upper_bound_s(p, d) for d in range(p.n_devices))
            comp += sum(float(p.weight_s[l].max()) for l, k in enumerate(p.pseudo) if k is not None)
        else:
            comp = sum(float((prob[l] * (p.compute_s[l] + p.weight_s[l])).max()) for l in range(p.n_layers))
        return float(comp + xfer) * 1.000001 + 1e-9

    def _build_energy(self, ctx: ModelContext, sent, recv, M: float) -> None:
        from layerplan.formulations.freddi import device_energy

        base = ctx.base
        pw = self.power
        self.used = pyo.Var(base.DEVICES, domain=pyo.Binary, doc="u_d = 1: d runs at least one layer")
        self.used_lo_Constraint = pyo.Constraint(base.LAYERS, base.DEVICES, rule=lambda b, l, d: b.used[d] >= base.x[l, d],
                                                 doc="u_d >= x[l,d]")
        self.used_hi_Constraint = pyo.Constraint(base.DEVICES,
                                                 rule=lambda b, d: b.used[d] <= sum(base.x[l, d] for l in base.LAYERS),
                                                 doc="u_d <= sum_l x[l,d]")
        self.cycle_if_used_s = pyo.Var(base.DEVICES, domain=pyo.NonNegativeReals, bounds=(0, M), doc="tau u_d, s")
        self.mc1_Constraint = pyo.Constraint(base.DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] <= b.cycle_s,
                                             doc="McCormick of tau u_d: tau u_d <= tau")
        self.mc2_Constraint = pyo.Constraint(base.DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] <= M * b.used[d],
                                             doc="McCormick of tau u_d: tau u_d <= M u_d")
        self.mc3_Constraint = pyo.Constraint(
            base.DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] >= b.cycle_s - M * (1 - b.used[d]),
            doc="McCormick of tau u_d (exact for binary u_d)")
        idle_unused = bool(self.config.idle_unused)

        def energy(b, d):
            if d in self.freddi_devices:
                active = device_energy(ctx, d)  # Eqs. (8.3)-(8.4)
            else:
                active = pw.active_W.get(d, 0.0) * b.busy_s[d] + pw.comm_W.get(d, 0.0) * (sent[d] + recv[d])
            hold = (b.cycle_s if idle_unused else b.cycle_if_used_s[d]) - b.stage_s[d]
            return active + pw.idle_W.get(d, 0.0) * hold

        self.energy_J = pyo.Expression(base.DEVICES, rule=energy,
                                       doc="E_d = E^c_d + E^x_d + P^idle_d (tau u_d - S_d), J per inference (Eq. (9.2))")
        self.weighted_energy_J = pyo.Expression(expr=sum(self.weights[d] * self.energy_J[d] for d in base.DEVICES),
                                                doc="sum_d w_d E_d, J per inference")

    # -- the exact front and the scalarized points ------------------------------------
    def solve_model(self, ctx: ModelContext, solve_once):
        """With ``front``: the exact (tau, energy) front by epsilon constraints, lexicographic
        at each step (min E s.t. tau <= eps, then min tau s.t. E <= E*), and the scalarized
        points for each a of ``front_weights``; then the configured objective is solved again,
        so the loaded plan is the configured one. Without ``front``: one solve."""
        if self.config.front == "none":
            return solve_once()
        from layerplan.errors import SolverError

        def attempt():
            try:
                return solve_once()
            except SolverError as exc:
                if "infeasible" in str(exc):
                    return None
                raise

        total = 0.0
        self.front_points, self.scalarized_points = [], []
        objs = (self.Objective, self.front_energy_Objective, self.front_cycle_Objective)
        caps = (self.cycle_cap_Constraint, self.energy_cap_Constraint)
        saved_caps = [c.active for c in caps]
        if self.config.front in ("exact", "both"):
            for o in objs:
                o.deactivate()
            self.energy_cap_Constraint.deactivate()
            if self.config.max_cycle_s is None:
                self.cycle_cap_Constraint.deactivate()
            delta_rel = float(self.config.front_delta_rel)
            delta = float(self.config.front_delta_abs)
            while len(self.front_points) < self.config.front_max_points:
                self.front_energy_Objective.activate()
                sol = attempt()
                self.front_energy_Objective.deactivate()
                if sol is None:
                    break
                total += sol.solve_s
                e_star = float(pyo.value(self.weighted_energy_J))
                self.max_energy_J = e_star + 1e-9 * max(abs(e_star), 1e-12)
                self.energy_cap_Constraint.activate()
                self.front_cycle_Objective.activate()
                sol = attempt()
                self.front_cycle_Objective.deactivate()
                self.energy_cap_Constraint.deactivate()
                if sol is None:  # numerically the first step's plan itself
                    break
                total += sol.solve_s
                point = self._point(ctx)
                if self.front_points and point["cycle_s"] >= self.front_points[-1]["cycle_s"] - 0.5 * delta:
                    # the solver's feasibility tolerance let the previous plan through: widen the step
                    delta *= 10
                    if delta > 1e-3 * self.front_points[-1]["cycle_s"]:
                        break
                    self.max_cycle_s = self.front_points[-1]["cycle_s"] - delta
                    continue
                self.front_points.append(point)
                delta = max(delta_rel * point["cycle_s"], float(self.config.front_delta_abs))
                self.max_cycle_s = point["cycle_s"] - delta
                self.cycle_cap_Constraint.activate()
            self.front_points.sort(key=lambda q: q["cycle_s"])
        if self.config.front in ("scalarized", "both"):
            for o in objs:
                o.deactivate()
            for c in caps:
                c.deactivate()
            self.Objective.activate()
            for w in self.config.front_weights:
                self.energy_weight = float(w)
                sol = attempt()
                if sol is None:
                    continue
                total += sol.solve_s
                self.scalarized_points.append({"energy_weight": float(w), **self._point(ctx)})
        # restore the configured problem and solve it (the loaded plan is the configured one)
        for o in objs:
            o.deactivate()
        self.Objective.activate()
        self.energy_weight = float(self.config.energy_weight)
        if self.config.max_cycle_s is not None:
            self.max_cycle_s = self.config.max_cycle_s
        if self.config.max_energy_J is not None:
            self.max_energy_J = self.config.max_energy_J
        for c, was in zip(caps, saved_caps):
            c.activate() if was else c.deactivate()
        sol = solve_once()
        sol.solve_s += total
        sol.extra["front_points"] = len(self.front_points)
        return sol

    def _point(self, ctx: ModelContext) -> dict:
        m = self.evaluate(ctx)
        p = ctx.params
        a = ctx.base.assignment()
        layers: dict[str, list[str]] = {}
        for l, d in enumerate(a):
            if p.pseudo[l] is None:
                layers.setdefault(p.devices[d], []).append(p.layers[l])
        classes = dict(zip(p.devices, p.device_classes)) if p.device_classes else {}
        return {"cycle_s": m.cycle_s, "throughput_per_s": m.throughput_per_s, "energy_J": m.weighted_energy_J(self.weights),
                "energy_by_device_J": dict(m.energy_J), "bottleneck": m.bottleneck,
                "edge_tier_energy_J": sum(e for d, e in m.energy_J.items() if classes.get(d) == "edge"),
                "model_cycle_s": float(pyo.value(self.cycle_s)),
                "model_energy_J": float(pyo.value(self.weighted_energy_J)),
                "layers_by_device": layers, "assignment": [p.devices[d] for d in a]}

    def describe(self) -> str:
        parts = []
        if self.config.max_cycle_s is not None:
            parts.append(f"objective.max_cycle_s = {self.config.max_cycle_s} s")
        if self.config.max_energy_J is not None:
            parts.append(f"objective.max_energy_J = {self.config.max_energy_J} J")
        return "; ".join(parts)

    def evaluate(self, ctx: ModelContext):
        """The loaded plan's stream metrics from the plan itself (layerplan.stream)."""
        freq = None
        if self.mode == "bundles":
            fc = ctx.shared["bundles"].frequency_choice()
            freq = [fc.get(d, 0) for d in ctx.params.devices]
        return evaluate(ctx.params, ctx.base.assignment(), mode=self.mode, opts=self.options(), power=self.power,
                        freq=freq, freddi_devices=self.freddi_devices)

    def report(self, ctx: ModelContext) -> dict:
        m = self.evaluate(ctx)
        p = ctx.params
        out = {"mode": self.mode, "overlap": bool(self.config.overlap), "nic": self.config.nic,
               "microbatch": int(self.config.microbatch), **m.as_dict(),
               "model_cycle_s": float(pyo.value(self.cycle_s))}
        classes = dict(zip(p.devices, p.device_classes)) if p.device_classes else {}
        tiers: dict[str, float] = {}
        for d, e in m.energy_J.items():
            tiers[classes.get(d, "?")] = tiers.get(classes.get(d, "?"), 0.0) + e
        out["tier_energy_J"] = tiers
        out["edge_tier_energy_J"] = tiers.get("edge", 0.0)
        out["weighted_energy_J"] = m.weighted_energy_J(self.weights)
        out["energy_weight"] = float(self.config.energy_weight)
        out["cycle_ref_s"], out["energy_ref_J"] = self.cycle_ref, self.energy_ref
        if self.config.front != "none":
            from layerplan.stream import offload_plans

            out["front"] = getattr(self, "front_points", [])
            out["scalarized"] = getattr(self, "scalarized_points", [])
            base = {}
            for name, (cyc, _a, mm) in offload_plans(ctx.scenario, p, mode=self.mode, opts=self.options(),
                                                       power=self.power).items():
                base[name] = {"cycle_s": cyc, "energy_J": mm.weighted_energy_J(self.weights),
                              "energy_by_device_J": dict(mm.energy_J),
                              "edge_tier_energy_J": sum(e for d, e in mm.energy_J.items() if classes.get(d) == "edge")}
            out["single_device"] = base
        return out
