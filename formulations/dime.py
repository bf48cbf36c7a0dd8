"""DIME bundle profiling, Chapter 7 (Eqs. (7.1)-(7.5)), and the JointDNN baseline.

Bundle variables ``y[i, j, d]`` (layers i..j run on d as one profiled unit) for
i <= j <= i + MBS - 1 over the *real* layers, the compute term Eq. (7.2), the linking
constraint Eq. (7.3) and DIME's ceiling constraint Eq. (7.5),

.. math:: \\sum_{i,j} y_{i,j,d} \\le \\lceil n_d / MBS \\rceil, \\quad n_d = \\sum_{\\ell \\in real} x_{\\ell,d}

linearized with an integer ``k[d]``: MBS k_d >= n_d and MBS k_d <= n_d + MBS - 1, so
k_d = ceil(n_d / MBS). With MBS = L this is Eq. (7.4): at most one bundle per device, so a
device runs one contiguous segment (the single-entry assumption the thesis states), and
the estimate is the profile of the whole segment.

``jointdnn`` is the same block without Eq. (7.5): the bundle-based base ILP of Sec. 7.2,
which may cover a segment with several interior bundles and so under-estimate devices
whose small bundles sum to less than the large one.

Pseudo layers (source, preprocess, destination) take part in x and z (communication)
but not in bundles or in the ceiling constraint; otherwise a source and destination
pinned to the edge would count as edge layers and force everything onto the edge. A
preprocess pseudo layer keeps its analytic compute latency (Eq. (4.1)).

Profiles include weight loading (Sec. 4.4), so the block replaces both
``latency.compute`` (with Eq. (7.2)) and ``latency.weight`` (with the pseudo layers'
analytic weight latency, zero for the standard pseudo layers).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import Bool, ConfigDict, ConfigValue, In, PositiveInt
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError
from layerplan.registry import formulations


class BundleBlockData(ContributionData):
    """Bundle variables y, Eqs. (7.2)-(7.3), and optionally the ceiling Eq. (7.5)."""

    CONFIG = ConfigDict()
    CONFIG.declare("mbs", ConfigValue(default=None, domain=PositiveInt, description="maximum bundle size MBS (default L)"))
    CONFIG.declare("ceiling", ConfigValue(default=True, domain=Bool, description="add the ceiling constraint Eq. (7.5)"))
    CONFIG.declare(
        "form",
        ConfigValue(
            default="flow",
            domain=In(["flow", "thesis"]),
            description="link of x and y: 'thesis' (Eq. (7.3)) or 'flow' (bundles as arcs, default)",
            doc="'thesis' is Eq. (7.3), x[l,d] = sum of the bundles covering l; 'flow' makes bundles arcs of "
                "the layered (layer boundary, device) graph with flow conservation at every bundle boundary "
                "(docs/solver_scale.md): same integer solutions, LP relaxation = shortest-path polytope.",
        ),
    )
    name_in_errors = "dime"

    def build(self, ctx: ModelContext) -> None:
        base, p = ctx.base, ctx.params
        bl = p.bundles
        if bl is None:
            raise ConfigError(
                f"formulation {self.name_in_errors!r} needs bundle profiles: choose profiles=synthetic|cpu "
                "or set profiles.source=<folder or csv>", field=f"formulation.{self.name_in_errors}")
        if any(p.exec_prob[l] != 1.0 for l in bl.real_layers):
            raise ConfigError("bundle profiles do not model early-exit probabilities", field=f"formulation.{self.name_in_errors}")
        L = len(bl.real_layers)
        mbs = min(self.config.mbs or L, L)
        self.mbs = mbs
        bl.require(mbs)
        dev = list(base.DEVICES)
        didx = base.device_index
        multi = [d for d in dev if len(bl.freqs[didx[d]]) > 1]
        if multi and "freddi" not in ctx.formulations:
            d = multi[0]
            raise ConfigError(
                f"device {d!r} has {len(bl.freqs[didx[d]])} profiled frequencies: add freddi "
                f"(+formulation=[{self.name_in_errors},freddi]) or fix one with profiles.frequency.{d}=max|min|<Hz>",
                field=f"formulation.{self.name_in_errors}")
        self.REAL = pyo.Set(initialize=bl.real_layers, ordered=True, doc="real (non-pseudo) layers")
        self.BUNDLES = pyo.Set(initialize=bl.bundles(mbs), dimen=2, ordered=True, doc="(i, j): i <= j <= i + MBS - 1")
        self.BUNDLE_F = pyo.Set(
            initialize=[(i, j, d, f) for (i, j) in bl.bundles(mbs) for d in dev for f in range(len(bl.freqs[didx[d]]))],
            dimen=4, ordered=True, doc="(i, j, d, f): bundle i..j on d at its f-th frequency",
        )
        self.y = pyo.Var(self.BUNDLE_F, domain=pyo.Binary, doc="y[i,j,d,f] = 1: bundle i..j runs on d at frequency f")
        # Precomputed index lists (issue 12): the rules below read these instead of scanning
        # all of BUNDLE_F for every (layer, device).
        by_device: dict = {d: [] for d in dev}
        starts: dict = {}
        ends: dict = {}
        for k in self.BUNDLE_F:
            i, j, d, _f = k
            by_device[d].append(k)
            starts.setdefault((i, d), []).append(k)
            ends.setdefault((j, d), []).append(k)
        self.by_device, self.starts, self.ends = by_device, starts, ends

        if self.config.form == "thesis":
            cover: dict = {}
            for k in self.BUNDLE_F:
                i, j, d, _f = k
                for l in range(i, j + 1):
                    cover.setdefault((l, d), []).append(k)

            def link_rule(b, l, d):
                """Eq. (7.3), with frequencies Eq. (8.1): a real layer on d is covered by exactly
                one bundle on d (at one frequency).

                .. math:: x_{\\ell,d} = \\sum_{i \\le \\ell \\le j} \\sum_{f \\in F_d} y_{i,j,d,f}
                """
                return base.x[l, d] == sum(b.y[k] for k in cover.get((l, d), ()))

            self.link_Constraint = pyo.Constraint(self.REAL, base.DEVICES, rule=link_rule, doc="Eq. (7.3)")
        else:
            self._build_flow_link(base, dev)
        if self.config.ceiling:
            self.k = pyo.Var(base.DEVICES, domain=pyo.NonNegativeIntegers, bounds=(0, -(-L // mbs)),
                             doc="k[d] = ceil(n_d / MBS)")

            def k_lo_rule(b, d):
                """ceil linearization: MBS k_d >= n_d."""
                return mbs * b.k[d] >= sum(base.x[l, d] for l in b.REAL)

            def k_hi_rule(b, d):
                """ceil linearization: MBS k_d <= n_d + MBS - 1."""
                return mbs * b.k[d] <= sum(base.x[l, d] for l in b.REAL) + mbs - 1

            def ceiling_rule(b, d):
                """Eq. (7.5): at most ceil(n_d / MBS) bundles on d.

                .. math:: \\sum_{i,j,f} y_{i,j,d,f} \\le \\lceil \\frac{\\sum_\\ell x_{\\ell,d}}{MBS} \\rceil
                """
                return sum(b.y[k] for k in by_device[d]) <= b.k[d]

            self.k_lo_Constraint = pyo.Constraint(base.DEVICES, rule=k_lo_rule, doc="MBS k >= n")
            self.k_hi_Constraint = pyo.Constraint(base.DEVICES, rule=k_hi_rule, doc="MBS k <= n + MBS - 1")
            self.ceiling_Constraint = pyo.Constraint(base.DEVICES, rule=ceiling_rule, doc="Eq. (7.5)")
        pseudo = [l for l in base.LAYERS if p.pseudo[l] is not None]
        t = bl.latency_s
        self.compute_latency_s = pyo.Expression(
            expr=sum(t[(i, j, didx[d], f)] * self.y[i, j, d, f] for (i, j, d, f) in self.BUNDLE_F)
            + sum(p.exec_prob[l] * p.compute_s[l, didx[d]] * base.x[l, d] for l in pseudo for d in dev
                  if p.compute_s[l, didx[d]] != 0),
            doc="T^c, Eq. (7.2) / Eq. (8.2): sum t^c[i,j,d,f] y[i,j,d,f] (+ pseudo layers, Eq. (4.1))",
        )
        self.weight_latency_s = pyo.Expression(
            expr=sum(p.exec_prob[l] * p.weight_s[l, didx[d]] * base.x[l, d] for l in pseudo for d in dev
                     if p.weight_s[l, didx[d]] != 0),
            doc="T^w: inside the profiles (Sec. 4.4); only pseudo layers' analytic weights remain",
        )
        owner = self.name_in_errors
        ctx.terms.replace("latency.compute", owner, self.compute_latency_s)
        ctx.terms.replace("latency.weight", owner, self.weight_latency_s)
        for d in dev:  # per-device split of Eq. (7.2) (docs/throughput.md)
            k = didx[d]
            ctx.terms.replace(f"stage.compute@{d}", owner, sum(
                t[(i, j, k, f)] * self.y[i, j, e, f] for (i, j, e, f) in self.by_device[d])
                + sum(p.exec_prob[l] * p.compute_s[l, k] * base.x[l, d] for l in pseudo if p.compute_s[l, k] != 0))
            ctx.terms.replace(f"stage.weight@{d}", owner, sum(
                p.exec_prob[l] * p.weight_s[l, k] * base.x[l, d] for l in pseudo if p.weight_s[l, k] != 0))
        ctx.provide("bundles", self)

    def _build_flow_link(self, base, dev) -> None:
        """Flow form of Eq. (7.3): bundles are arcs Start(i, d) -> End(j, d) of a layered
        graph over layer boundaries and devices; at the boundary after real layer l the flow
        out of End(l, d) either moves to another device (base z[l, d, e], e != d) or starts
        a new bundle on d (s[l, d]), and the flow into Start(l + 1, e) comes from one of
        those. With the base block's flow rows (sum_e z[l,d,e] = x[l,d], sum_d z[l,d,e] =
        x[l+1,e]) and x[first, d] = S(first, d) these imply x[l+1,d] = x[l,d] + S(l+1,d) -
        E(l,d), i.e. x[l,d] = sum of the bundles covering l (Eq. (7.3)) by induction, so
        the integer solutions are the thesis'; the LP relaxation of the rows is a network
        flow (the shortest-path polytope). With ``model.linearization=and`` the telescoped
        Eq. (7.3) is added explicitly (the AND rows do not imply it).

        .. math::
            E_{\\ell,d} = \\sum_{e \\ne d} z_{\\ell,d,e} + s_{\\ell,d}, \\quad
            S_{\\ell+1,e} = \\sum_{d \\ne e} z_{\\ell,d,e} + s_{\\ell,e}, \\quad
            x_{first,d} = S_{first,d}
        """
        real = list(self.REAL)
        inner = real[:-1]
        starts, ends, y, z = self.starts, self.ends, self.y, base.z
        self.INNER = pyo.Set(initialize=inner, ordered=True, doc="real layers followed by a real layer")
        self.s = pyo.Var(self.INNER, base.DEVICES, domain=pyo.UnitInterval,
                         doc="s[l,d] = 1: a bundle on d ends at l and the next one on d starts at l+1")

        def S(l, d):
            return sum(y[k] for k in starts.get((l, d), ()))

        def E(l, d):
            return sum(y[k] for k in ends.get((l, d), ()))

        self.first_Constraint = pyo.Constraint(
            base.DEVICES, rule=lambda b, d: base.x[real[0], d] == S(real[0], d),
            doc="flow source: the first real layer starts a bundle")
        self.end_Constraint = pyo.Constraint(
            self.INNER, base.DEVICES,
            rule=lambda b, l, d: E(l, d) == sum(z[l, d, e] for e in dev if e != d) + b.s[l, d],
            doc="flow conservation at End(l, d)")
        self.start_Constraint = pyo.Constraint(
            self.INNER, base.DEVICES,
            rule=lambda b, l, e: S(l + 1, e) == sum(z[l, d, e] for d in dev if d != e) + b.s[l, e],
            doc="flow conservation at Start(l + 1, e)")
        if base.config.linearization != "flow":
            self.telescope_Constraint = pyo.Constraint(
                self.INNER, base.DEVICES,
                rule=lambda b, l, d: base.x[l + 1, d] == base.x[l, d] + S(l + 1, d) - E(l, d),
                doc="Eq. (7.3) telescoped: x[l+1,d] - x[l,d] = S(l+1,d) - E(l,d)")

    def frequency_choice(self) -> dict[str, int]:
        """Frequency index used by each device that runs a bundle in the loaded solution."""
        chosen: dict[str, int] = {}
        for (i, j, d, f) in self.BUNDLE_F:
            if pyo.value(self.y[i, j, d, f]) > 0.5:
                chosen[d] = f
        return chosen

    def report(self, ctx: ModelContext) -> dict:
        """Bundles chosen, profiling effort and the plan's actual latency (Tables 7.1-7.3)."""
        from layerplan.bundle_eval import actual_latency_s
        from layerplan.profiles import profile_count, profile_count_eq_7_6

        p, bl = ctx.params, ctx.params.bundles
        L = len(bl.real_layers)
        out = {
            "mbs": self.mbs,
            "ceiling": bool(self.config.ceiling),
            "profiles_per_device": profile_count(L, self.mbs),
            "profiles_per_device_eq_7_6": profile_count_eq_7_6(L, self.mbs),
            "profiles_total": profile_count(L, self.mbs) * p.n_devices,
            "bundles": [
                {"first": p.layers[i], "last": p.layers[j], "device": d,
                 "frequency": frequency_value(bl.freqs[p.devices.index(d)][f]),
                 "frequency_label": bl.freqs[p.devices.index(d)][f], "i": bl.real_layers.index(i) + 1, "j": bl.real_layers.index(j) + 1}
                for (i, j, d, f) in sorted(self.chosen_bundles(), key=lambda t: t[0])
            ],
            "estimated_latency_s": float(pyo.value(ctx.terms.total("latency."))),
        }
        freq = self.frequency_choice()
        findex = [freq.get(d, 0) for d in p.devices]
        # Hz as a number (the profile label, e.g. "governor", where it is not one)
        out["frequency"] = {d: frequency_value(bl.freqs[k][findex[k]]) for k, d in enumerate(p.devices) if d in freq}
        out["frequency_label"] = {d: bl.freqs[k][findex[k]] for k, d in enumerate(p.devices) if d in freq}
        if bl.complete:
            out["actual_latency_s"] = actual_latency_s(p, ctx.base.assignment(), findex)
        return out

    def chosen_bundles(self) -> list[tuple[int, int, str, int]]:
        """(i, j, device, frequency index) of every bundle in the loaded solution."""
        return [k for k in self.BUNDLE_F if pyo.value(self.y[k]) > 0.5]



def frequency_value(label):
    """A profile's frequency label as a number of Hz; the label itself when it is not a
    number (``governor``, ``nominal``)."""
    try:
        return float(label)
    except (TypeError, ValueError):
        return label

@formulations.register(
    "dime",
    phase=20,
    replaces=("latency.compute", "latency.weight"),
    conflicts=("jointdnn",),
    meta={"provides": ("bundles",)},
    doc="DIME bundle profiling with the MBS ceiling constraint, Ch. 7: Eqs. (7.2)-(7.5)",
)
@declare_custom_block(name="DimeBlock")
class DimeBlockData(BundleBlockData):
    """DIME (Ch. 7): bundles with the ceiling constraint Eq. (7.5)."""

    CONFIG = BundleBlockData.CONFIG()
    name_in_errors = "dime"


@formulations.register(
    "jointdnn",
    phase=20,
    replaces=("latency.compute", "latency.weight"),
    conflicts=("dime",),
    meta={"provides": ("bundles",)},
    doc="JointDNN baseline: bundle ILP of Sec. 7.2 without the ceiling constraint",
)
@declare_custom_block(name="JointDnnBlock")
class JointDnnBlockData(BundleBlockData):
    """JointDNN (Sec. 7.2): bundles, no ceiling constraint."""

    CONFIG = BundleBlockData.CONFIG()
    CONFIG.get("ceiling").set_default_value(False)
    name_in_errors = "jointdnn"

    def build(self, ctx: ModelContext) -> None:
        if self.config.ceiling:
            raise ConfigError("jointdnn has no ceiling constraint; use formulation dime", field="formulation.jointdnn.ceiling")
        super().build(ctx)
