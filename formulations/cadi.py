"""CADI: carbon-aware distributed inference over a duration, Chapter 9 (Eqs. (9.1)-(9.5)).

A long-running service repeats the inference for a duration U (default one hour, the
granularity of carbon-intensity data). Devices pipeline successive inferences (Fig. 9.2):
a device starts its part of inference n + 1 once it has sent its part of inference n,
and a device whose part is shorter than the cycle *holds* at idle power. The exact
definitions (busy time B_d, cycle tau, hold time, hold energy, energy and carbon
footprints) are in :mod:`layerplan.cadi_eval`, which is also the enumeration oracle.

Two forms, chosen by ``form``:

``two_device`` -- the thesis' form (Sec. 9.3). Source s runs real layers 1..l as one
bundle, partner p runs l+1..L as one bundle (l = L: s alone). Binary pi[l, f_s, f_p]
selects the split and the two frequencies (pi = y[1,l,s,f_s] AND y[l+1,L,p,f_p]); the
number of inferences I_l (Eq. (9.1)) and the hold energies e^h (Eq. (9.2)) are
parameters of each split. Eq. (9.4) multiplies I_l y_{1,l,s} by the model's energy
E_d; since pi <= y_b for the split's two bundles and pi + y_b <= 1 for any other bundle,
the product pi E_d(y) equals pi E_d(l, f_s, f_p), the split's energy (Eqs. (8.3)-(8.4)),
exactly. Needs DIME with MBS = L and exactly two devices.

``general`` -- any number of devices and any plan DIME allows. Eq. (9.4) multiplies a
variable count of inferences I = U / tau by variable energies, so it is not linear. We
write it exactly as

    CF = U * G / tau,   G = sum_d C_d (E^c_d + E^x_d + P^idle_d (tau u_d - B_d))

with a cycle-time variable tau = max_d B_d (tau >= B_d, and tau <= B_d + M (1 - m_d) for
one selected bottleneck device, sum_d m_d = 1: the thesis maximizes the number of
inferences and inserts no waits), u_d = 1 if d runs any layer, and tau u_d linearized
(McCormick, exact for binary u). G and tau are linear in the model, and the `carbon`
objective minimizes the ratio G / tau exactly by Dinkelbach's method (a sequence of
MILPs min G - lambda tau; objectives/carbon.py). For N = 2 and the plans the two-device
form allows, both forms give the same CF, EF, I and hold energies (tests).

Carbon intensity C_d (mgCO2/J) is a mutable parameter per device (Eq. (9.5)),
re-settable for hourly re-solving (:func:`set_carbon_intensity`).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import Bool, ConfigDict, ConfigValue, In, PositiveFloat
from pyomo.core.base.block import declare_custom_block

from layerplan.cadi_eval import plan_metrics
from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.formulations.freddi import device_energy
from layerplan.registry import formulations


def _carbon_map(value):
    if value is None:
        return {}
    try:
        out = {str(k): float(v) for k, v in dict(value).items()}
    except (TypeError, ValueError):
        raise ValueError(f"carbon_intensity_mg_per_J must map device names to numbers, got {value!r}") from None
    bad = [k for k, v in out.items() if not v >= 0]
    if bad:
        raise ValueError(f"carbon intensity of {bad[0]!r} must be >= 0 mgCO2/J, got {out[bad[0]]}")
    return out


def busy_upper_bound_s(p, d: int) -> float:
    """An upper bound of B_d over every plan: the largest sum of bundle latencies over
    any set of disjoint bundles (a max-weight interval packing, O(L MBS)), plus the largest
    pseudo-layer compute and the largest send time of every layer."""
    bl = p.bundles
    real = bl.real_layers
    best = [0.0] * (len(real) + 1)
    worst = {}
    for (i, j, dd, f), t in bl.latency_s.items():
        if dd == d:
            worst[(i, j)] = max(worst.get((i, j), 0.0), t)
    for b in range(1, len(real) + 1):
        best[b] = best[b - 1]
        for a in range(1, b + 1):
            t = worst.get((real[a - 1], real[b - 1]))
            if t is not None:
                best[b] = max(best[b], best[a - 1] + t)
    pseudo = sum(float(p.compute_s[l, d]) for l, k in enumerate(p.pseudo) if k is not None)
    send = sum(float(p.comm_s[l, d, :].max()) for l in range(p.n_layers - 1))
    return best[-1] + pseudo + send


@formulations.register(
    "cadi",
    phase=40,
    requires=("bundles", "freddi"),
    doc="CADI hold energy, duration and carbon footprint, Ch. 9: Eqs. (9.1)-(9.5)",
)
@declare_custom_block(name="CadiBlock")
class CadiBlockData(ContributionData):
    """CADI (Ch. 9): inferences per duration, hold energy, energy and carbon footprints."""

    CONFIG = ConfigDict()
    CONFIG.declare("form", ConfigValue(default="general", domain=In(["general", "two_device"]),
                                       description="general (any devices, cycle-time variable) | two_device (thesis)"))
    CONFIG.declare("duration_s", ConfigValue(default=3600.0, domain=PositiveFloat, description="U, s"))
    CONFIG.declare("carbon_intensity_mg_per_J", ConfigValue(default=None, domain=_carbon_map,
                                                            description="C_d per device, mgCO2/J (Eq. (9.5))"))
    CONFIG.declare("source", ConfigValue(default=None, description="two_device: source s (default: the scenario source)"))
    CONFIG.declare("partner", ConfigValue(default=None, description="two_device: partner p (default: the other device)"))
    CONFIG.declare("hold_time", ConfigValue(default="cycle", domain=In(["cycle", "compute"]),
                                            description="cycle: tau - B_d | compute: the thesis' compute-time difference "
                                                        "(two_device only)"))
    CONFIG.declare("single_device", ConfigValue(default=True, domain=Bool,
                                                description="allow plans on one device (false: Eq. (9.4)'s l = 1..L-1, "
                                                            "at least two devices run layers)"))
    CONFIG.declare("idle_unused", ConfigValue(default=False, domain=Bool,
                                              description="charge idle power for the whole cycle to devices running nothing"))

    # -- build -----------------------------------------------------------------------
    def build(self, ctx: ModelContext) -> None:
        base = ctx.base
        self._refs = {"bundles": ctx.require("bundles", "cadi")}
        names = list(ctx.require("energy_devices", "cadi"))
        if getattr(base.config, "mutable_bandwidth", False):
            raise ConfigError("cadi reads fixed transfer times; it cannot be combined with model.mutable_bandwidth",
                              field="formulation.cadi")
        self.CADI_DEVICES = pyo.Set(initialize=names, ordered=True, doc="devices whose energy and carbon count")
        idle = {d.name: d.idle_power_W for d in ctx.scenario.devices}
        self.idle_power_W = {d: float(idle.get(d, 0.0)) for d in names}
        given = self.config.carbon_intensity_mg_per_J or {}
        for d in given:
            ctx.check_device(d, f"formulation.cadi.carbon_intensity_mg_per_J.{d}")
        self.has_carbon = all(d in given for d in names)
        self.missing_carbon = [d for d in names if d not in given]
        self.carbon_intensity = pyo.Param(self.CADI_DEVICES, mutable=True, initialize={d: given.get(d, 0.0) for d in names},
                                          doc="C_d, mgCO2/J (Eq. (9.5)); mutable for re-solving")
        self.duration = float(self.config.duration_s)
        for d in names:
            ctx.terms.declare(f"energy.hold@{d}", "J", f"hold energy of {d} per inference, Eq. (9.2)")
        if self.config.form == "two_device":
            self._build_two_device(ctx, names)
        else:
            if self.config.hold_time != "cycle":
                raise ConfigError("hold_time=compute is the thesis' two-device hold time; use form=two_device",
                                  field="formulation.cadi.hold_time")
            self._build_general(ctx, names)
        ctx.provide("cadi", self)

    def _busy_expr(self, ctx, d: str):
        p, base, y = ctx.params, ctx.base, self._refs["bundles"]
        k = base.device_index[d]
        t = p.bundles.latency_s
        comp = sum(t[(i, j, k, f)] * y.y[i, j, dd, f] for (i, j, dd, f) in y.BUNDLE_F if dd == d)
        comp += sum(float(p.compute_s[l, k]) * base.x[l, d] for l in base.LAYERS
                    if p.pseudo[l] is not None and p.compute_s[l, k] != 0)
        send = sum(float(p.comm_s[l, k, base.device_index[e]]) * base.z[l, d, e]
                   for l in base.TRANSITIONS for e in base.DEVICES if p.comm_s[l, k, base.device_index[e]] != 0)
        return comp + send

    def _build_general(self, ctx: ModelContext, names: list[str]) -> None:
        p, base = ctx.params, ctx.base
        self.busy_s = pyo.Expression(base.DEVICES, rule=lambda b, d: b._busy_expr(ctx, d),
                                     doc="B_d: compute on d plus the transfers d sends, s per inference")
        bounds = {d: busy_upper_bound_s(p, base.device_index[d]) for d in base.DEVICES}
        M = max(bounds.values())
        self.big_M_s = M  # documented in docs/components.md: the bound behind the big-M and McCormick rows
        self.cycle_s = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, M), doc="tau: cycle time, s (Eq. (9.1): I = U / tau)")
        self.cycle_lo_Constraint = pyo.Constraint(base.DEVICES, rule=lambda b, d: b.cycle_s >= b.busy_s[d],
                                                  doc="tau >= B_d")
        self.bottleneck = pyo.Var(base.DEVICES, domain=pyo.Binary, doc="m_d = 1: d is the bottleneck (tau = B_d)")
        self.one_bottleneck_Constraint = pyo.Constraint(expr=sum(self.bottleneck[d] for d in base.DEVICES) == 1,
                                                        doc="sum_d m_d = 1: one bottleneck device")
        self.cycle_hi_Constraint = pyo.Constraint(
            base.DEVICES, rule=lambda b, d: b.cycle_s <= b.busy_s[d] + M * (1 - b.bottleneck[d]),
            doc="tau <= B_d + M (1 - m_d): no inserted waits, tau = max_d B_d")
        self.used = pyo.Var(self.CADI_DEVICES, domain=pyo.Binary, doc="u_d = 1: d runs at least one layer")
        self.used_lo_Constraint = pyo.Constraint(base.LAYERS, self.CADI_DEVICES,
                                                 rule=lambda b, l, d: b.used[d] >= base.x[l, d], doc="u_d >= x[l,d]")
        self.used_hi_Constraint = pyo.Constraint(self.CADI_DEVICES,
                                                 rule=lambda b, d: b.used[d] <= sum(base.x[l, d] for l in base.LAYERS),
                                                 doc="u_d <= sum_l x[l,d]")
        self.cycle_if_used_s = pyo.Var(self.CADI_DEVICES, domain=pyo.NonNegativeReals, bounds=(0, M), doc="tau u_d, s")
        self.mc1_Constraint = pyo.Constraint(self.CADI_DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] <= b.cycle_s,
                                             doc="McCormick of tau u_d: tau u_d <= tau")
        self.mc2_Constraint = pyo.Constraint(self.CADI_DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] <= M * b.used[d],
                                             doc="McCormick of tau u_d: tau u_d <= M u_d")
        self.mc3_Constraint = pyo.Constraint(
            self.CADI_DEVICES, rule=lambda b, d: b.cycle_if_used_s[d] >= b.cycle_s - M * (1 - b.used[d]),
            doc="McCormick of tau u_d (exact for binary u_d)")
        if not self.config.single_device:
            self.two_devices_Constraint = pyo.Constraint(expr=sum(self.used[d] for d in self.CADI_DEVICES) >= 2,
                                                         doc="at least two devices run layers")
        unused_idle = bool(self.config.idle_unused)

        def hold_rule(b, d):
            """Eq. (9.2) generalized: t^h_d = tau - B_d while d is in use."""
            return (b.cycle_s if unused_idle else b.cycle_if_used_s[d]) - b.busy_s[d]

        self.hold_s = pyo.Expression(self.CADI_DEVICES, rule=hold_rule, doc="t^h_d, s per inference")
        self.hold_energy_J = pyo.Expression(self.CADI_DEVICES, rule=lambda b, d: b.idle_power_W[d] * b.hold_s[d],
                                            doc="e^h_d = P^idle_d t^h_d, Eq. (9.2)")
        for d in names:
            ctx.terms.add(f"energy.hold@{d}", "cadi", self.hold_energy_J[d])
        self.energy_per_inference_J = pyo.Expression(
            self.CADI_DEVICES, rule=lambda b, d: device_energy(ctx, d) + ctx.terms.expr(f"energy.hold@{d}"),
            doc="E_d = E^c_d + E^x_d + E^h_d, Eq. (9.3)")
        self.carbon_per_inference_mg = pyo.Expression(
            expr=sum(self.carbon_intensity[d] * self.energy_per_inference_J[d] for d in names),
            doc="G = sum_d C_d E_d, mgCO2 per inference")

    def _build_two_device(self, ctx: ModelContext, names: list[str]) -> None:
        p, y = ctx.params, self._refs["bundles"]
        bl = p.bundles
        if p.n_devices != 2:
            raise ConfigError(f"form=two_device needs exactly two devices, the scenario has {p.n_devices}; use form=general",
                              field="formulation.cadi.form")
        s = self.config.source or ctx.scenario.source_device or p.devices[0]
        ctx.check_device(s, "formulation.cadi.source")
        partner = self.config.partner or next(d for d in p.devices if d != s)
        ctx.check_device(partner, "formulation.cadi.partner")
        if partner == s:
            raise ConfigError("source and partner must differ", field="formulation.cadi.partner")
        for d in (s, partner):
            if d not in names:
                raise ConfigError(f"device {d!r} has no energy in the model; set formulation.freddi.energy_devices=all",
                                  field="formulation.freddi.energy_devices")
        R = bl.real_layers
        L = len(R)
        if y.mbs < L:
            raise ConfigError(f"form=two_device needs single bundles 1..l and l+1..L: set formulation.dime.mbs to L "
                              f"(= {L}) or leave it unset", field="formulation.dime.mbs")
        unpinned = [p.layers[l] for l, k in enumerate(p.pseudo) if k is not None and l not in p.pinned]
        if unpinned:
            raise ConfigError(f"form=two_device needs every pseudo layer pinned; {unpinned[0]!r} is not "
                              "(scenario.preassign or scenario.preprocess=false)", field="scenario.preassign")
        self.source, self.partner = s, partner
        si, pi = p.devices.index(s), p.devices.index(partner)
        nf = [len(bl.freqs[k]) for k in range(2)]
        plans = []
        for k in range(1, L + 1 if self.config.single_device else L):
            for fs in range(nf[si]):
                for fp in (range(nf[pi]) if k < L else [-1]):
                    plans.append((k, fs, fp))
        self.PLANS = pyo.Set(initialize=plans, dimen=3, ordered=True,
                             doc="(l, f_s, f_p): s runs real layers 1..l at f_s, p runs l+1..L at f_p (f_p = -1: l = L)")
        metrics = {}
        for (k, fs, fp) in plans:
            a = [p.pinned[l] if p.pseudo[l] is not None else (si if R.index(l) < k else pi) for l in range(p.n_layers)]
            freq = [0, 0]
            freq[si], freq[pi] = fs, max(fp, 0)
            metrics[(k, fs, fp)] = plan_metrics(p, a, freq, energy_devices=[s, partner], idle_power_W=self.idle_power_W,
                                                duration_s=self.duration, hold_time=self.config.hold_time,
                                                idle_unused=bool(self.config.idle_unused))
        self.inferences = pyo.Param(self.PLANS, initialize={k: m.inferences for k, m in metrics.items()},
                                    doc="I_{l,s,p} = U / max(...), Eq. (9.1)")
        self.plan_cycle_s = {k: m.cycle_s for k, m in metrics.items()}
        self.plan_hold_J = pyo.Param(self.PLANS, [s, partner], initialize={(k + (d,)): m.hold_energy_J[d]
                                                                            for k, m in metrics.items() for d in (s, partner)},
                                     doc="e^h_{l,d} = t^h_{l,d} P^idle_d, Eq. (9.2)")
        self.pi = pyo.Var(self.PLANS, domain=pyo.Binary, doc="pi[l,f_s,f_p] = 1: the split and frequencies chosen")
        self.one_plan_Constraint = pyo.Constraint(expr=sum(self.pi[k] for k in plans) == 1, doc="one split and frequency pair")
        first, last = R[0], R[-1]
        ys = lambda k, fs: y.y[first, R[k - 1], s, fs]  # noqa: E731
        yp = lambda k, fp: y.y[R[k], last, partner, fp]  # noqa: E731
        self.pi_s_Constraint = pyo.Constraint(self.PLANS, rule=lambda b, k, fs, fp: b.pi[k, fs, fp] <= ys(k, fs),
                                              doc="pi <= y[1,l,s,f_s]")
        self.pi_p_Constraint = pyo.Constraint(
            self.PLANS, rule=lambda b, k, fs, fp: b.pi[k, fs, fp] <= yp(k, fp) if fp >= 0 else pyo.Constraint.Skip,
            doc="pi <= y[l+1,L,p,f_p]")
        self.pi_and_Constraint = pyo.Constraint(
            self.PLANS, rule=lambda b, k, fs, fp: b.pi[k, fs, fp] >= ys(k, fs) + (yp(k, fp) if fp >= 0 else 1) - 1,
            doc="pi = y[1,l,s,f_s] AND y[l+1,L,p,f_p]")
        allowed = {(first, R[k - 1], s, fs) for k in range(1, L + 1) for fs in range(nf[si])}
        allowed |= {(R[k], last, partner, fp) for k in range(1, L) for fp in range(nf[pi])}
        self.two_device_Constraint = pyo.Constraint(
            expr=sum(y.y[key] for key in y.BUNDLE_F if key not in allowed) == 0,
            doc="only the bundles 1..l on s and l+1..L on p (Sec. 9.3)")
        # Eq. (9.4) multiplies I_l y_{1,l,s} by E_d = sum_b e_b y_b + (transfer energy, linear
        # in z). pi <= y_b for the two bundles b of its split, and pi + y_b <= 1 for every
        # other bundle (one bundle covers the first layer on s, one the last on p), so
        # pi y_b = pi for b in the split and 0 otherwise, and likewise for z: the product is
        # exactly pi E_d(l, f_s, f_p), with the split's energies (Eqs. (8.3)-(8.4)) as parameters.
        self.plan_energy_J = pyo.Param(self.PLANS, [s, partner], initialize={(k + (d,)): m.energy_J[d]
                                                                              for k, m in metrics.items() for d in (s, partner)},
                                       doc="E^c_d + E^x_d of split (l, f_s, f_p), J")
        self.phi = pyo.Expression(self.PLANS, [s, partner],
                                  rule=lambda b, k, fs, fp, d: b.plan_energy_J[k, fs, fp, d] * b.pi[k, fs, fp],
                                  doc="pi E_d (the product of Eq. (9.4), exact)")
        for d in (s, partner):
            ctx.terms.add(f"energy.hold@{d}", "cadi", sum(self.plan_hold_J[k + (d,)] * self.pi[k] for k in plans))
        self.energy_footprint_J = pyo.Expression(
            [s, partner],
            rule=lambda b, d: sum(b.inferences[k] * (b.phi[k + (d,)] + b.plan_hold_J[k + (d,)] * b.pi[k]) for k in plans),
            doc="EF_d = sum_l I_l pi_l (E^c_d + E^x_d + E^h_d), Eq. (9.4)")
        self.carbon_footprint_mg = pyo.Expression(
            expr=sum(self.carbon_intensity[d] * self.energy_footprint_J[d] for d in (s, partner)),
            doc="CF = sum_d C_d EF_d, Eq. (9.5)")
        self.carbon_per_inference_mg = pyo.Expression(
            expr=sum(self.carbon_intensity[d] * (self.phi[k + (d,)] + self.plan_hold_J[k + (d,)] * self.pi[k])
                     for d in (s, partner) for k in plans),
            doc="G = sum_d C_d E_d, mgCO2 per inference")
        self.inferences_expr = pyo.Expression(expr=sum(self.inferences[k] * self.pi[k] for k in plans),
                                              doc="I = sum_l I_l pi_l")
        self.cycle_expr_s = pyo.Expression(expr=sum(self.plan_cycle_s[k] * self.pi[k] for k in plans), doc="tau")

    # -- interface for objectives and constraints ---------------------------------------
    def require_carbon(self, by: str) -> None:
        if not self.has_carbon:
            miss = list(self.missing_carbon)  # every device at once, hints that work when pasted
            d = miss[0]
            raise ConfigError(f"{by} needs the carbon intensity of device{'s' if len(miss) > 1 else ''} "
                              f"{', '.join(repr(m) for m in miss)}: set "
                              + " ".join(f"++carbon.devices.{m}=<grid>" for m in miss)
                              + " (grids: carbon.grids, e.g. CAISO, LADWP, MISO; or "
                              f"++formulation.cadi.carbon_intensity_mg_per_J.{d}=<mgCO2/J>)",
                              field=f"formulation.cadi.carbon_intensity_mg_per_J.{d}")

    def footprint_ratio(self):
        """(numerator, denominator): CF = U * numerator / denominator. The two-device form's
        CF is linear (denominator None); the general form is the ratio G / tau."""
        if self.config.form == "two_device":
            return self.carbon_footprint_mg, None
        return self.carbon_per_inference_mg, self.cycle_s

    def cycle_expr(self):
        return self.cycle_expr_s if self.config.form == "two_device" else self.cycle_s

    def min_inferences_constraint(self, n: float):
        """I >= n as a linear constraint: tau <= U / n (general), sum_l I_l pi_l >= n (two-device)."""
        if self.config.form == "two_device":
            return self.inferences_expr >= n
        return self.cycle_s <= self.duration / n

    def set_carbon_intensity(self, values_mg_per_J: dict[str, float]) -> None:
        """Update C_d in place (hourly re-solving, Sec. 9.4 'Dynamic Scheduling')."""
        for d, v in values_mg_per_J.items():
            if d in self.CADI_DEVICES:
                self.carbon_intensity[d] = float(v)
        self.has_carbon = all(d in values_mg_per_J or d not in self.missing_carbon for d in self.CADI_DEVICES)
        self.missing_carbon = [d for d in self.missing_carbon if d not in values_mg_per_J]

    def evaluate(self, ctx: ModelContext):
        """The loaded solution's CADI quantities from the plan itself (layerplan.cadi_eval)."""
        p = ctx.params
        freq_idx = self._refs["bundles"].frequency_choice()
        freq = [freq_idx.get(d, 0) for d in p.devices]
        carbon = {d: float(pyo.value(self.carbon_intensity[d])) for d in self.CADI_DEVICES} if self.has_carbon else None
        return plan_metrics(p, ctx.base.assignment(), freq, energy_devices=list(self.CADI_DEVICES),
                            idle_power_W=self.idle_power_W, carbon_mg_per_J=carbon, duration_s=self.duration,
                            hold_time=self.config.hold_time, idle_unused=bool(self.config.idle_unused))

    def report(self, ctx: ModelContext) -> dict:
        from layerplan.cadi_eval import transition_layer

        m = self.evaluate(ctx)
        out = {"form": self.config.form, "hold_time": self.config.hold_time, **m.as_dict()}
        out["carbon_intensity_mg_per_J"] = ({d: float(pyo.value(self.carbon_intensity[d])) for d in self.CADI_DEVICES}
                                            if self.has_carbon else None)
        out["model_cycle_s"] = float(pyo.value(self.cycle_expr()))
        src = self.source if self.config.form == "two_device" else (ctx.scenario.source_device or ctx.params.devices[0])
        out["source"] = src
        out["transition_layer"] = transition_layer(ctx.params, ctx.base.assignment(), src)
        out.update(self.single_device_comparison(ctx, src, m))
        return out

    def single_device_comparison(self, ctx: ModelContext, src: str, m) -> dict:
        """The source alone, for Table 9.2 and Fig. 9.3: ``source_alone`` at full throughput
        (best frequency for CF, or for E without carbon data), and ``single_device_same_inferences``:
        the source running the same number of inferences I in U as the plan, waiting at idle
        power for the rest of U (the thesis' manual single-device calculation, Sec. 9.4)."""
        p = ctx.params
        s = p.devices.index(src)
        if src not in self.CADI_DEVICES:
            return {}
        a = [s] * p.n_layers
        if any(l in p.pinned and p.pinned[l] != s for l in range(p.n_layers)):
            return {}
        carbon = ({d: float(pyo.value(self.carbon_intensity[d])) for d in self.CADI_DEVICES} if self.has_carbon else None)
        cs = carbon[src] if carbon else None
        alone, same = None, None
        for f in range(len(p.bundles.freqs[s])):
            freq = [0] * p.n_devices
            freq[s] = f
            one = plan_metrics(p, a, freq, energy_devices=[src], idle_power_W=self.idle_power_W,
                               carbon_mg_per_J=carbon and {src: cs}, duration_s=self.duration)
            key = one.carbon_total_mg if carbon else one.energy_total_J
            if alone is None or key < alone[0]:
                alone = (key, f, one)
            busy = one.busy_s[src]
            if m.inferences * busy <= self.duration * (1 + 1e-12):
                ef = m.inferences * one.energy_J[src] + self.idle_power_W[src] * (self.duration - m.inferences * busy)
                cf = cs * ef if carbon else None
                key2 = cf if carbon else ef
                if same is None or key2 < same[0]:
                    same = (key2, f, {"inferences": m.inferences, "frequency": p.bundles.freqs[s][f], "busy_s": busy,
                                      "wait_s": self.duration - m.inferences * busy, "energy_footprint_J": ef,
                                      "carbon_footprint_mg": cf})
        _, f, one = alone
        out = {"source_alone": {"frequency": p.bundles.freqs[s][f], "cycle_s": one.cycle_s, "inferences": one.inferences,
                                "energy_J": one.energy_total_J, "energy_footprint_J": one.footprint_total_J,
                                "carbon_footprint_mg": one.carbon_total_mg if carbon else None,
                                "latency_s": one.latency_s}}
        out["single_device_same_inferences"] = same[2] if same else None
        return out
