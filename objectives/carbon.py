"""CADI objectives, Sec. 9.3 'Objectives'. They need the ``cadi`` formulation.

- ``carbon``: minimize the carbon footprint over the duration U, CF = sum_d CF_d
  (Eq. (9.5)), optionally with the single-inference latency <= max_latency_s (T, 1 s for
  AlexNet/VGG11 and 3 s for ViT in Sec. 9.4). With ``form=two_device`` CF is linear; with
  ``form=general`` CF = U G / tau is a ratio of two linear expressions and is minimized
  exactly by Dinkelbach's method: lambda_0 = 0; solve min G - lambda_k tau; lambda_{k+1}
  = G / tau at that solution; stop when min G - lambda_k tau >= -tol (the optimum ratio).
  Each step is one MILP; the sequence of lambdas decreases strictly and reaches the
  optimal ratio in finitely many steps (finitely many plans).
- ``energy_single``: minimize the energy of one inference, E = sum_d (E^c_d + E^x_d)
  over the CADI devices (no hold energy: a single inference does not wait), same cap.
- ``carbon_per_inference``: minimize G = sum_d C_d E_d (hold energy included), mgCO2 per
  inference -- a linear objective, for users who want carbon per unit of work rather
  than per hour (it prefers high throughput where ``carbon`` prefers slow plans).
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import ConfigDict, ConfigValue, PositiveFloat, PositiveInt

from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import SolverError
from layerplan.formulations.freddi import device_energy
from layerplan.registry import objectives


class CappedObjectiveData(ContributionData):
    """Common to the CADI objectives: an optional single-inference latency cap T
    (``max_latency_s``; Sec. 9.4 uses 1 s for AlexNet and VGG11, 3 s for ViT)."""

    CONFIG = ConfigDict()
    CONFIG.declare("max_latency_s", ConfigValue(default=None, domain=PositiveFloat, description="T, s (optional)"))

    def add_latency_cap(self, ctx: ModelContext) -> None:
        if self.config.max_latency_s is not None:
            self.max_latency_s = pyo.Param(mutable=True, initialize=self.config.max_latency_s, doc="T, s (mutable)")
            self.latency_cap_Constraint = pyo.Constraint(expr=ctx.terms.total("latency.") <= self.max_latency_s,
                                                         doc="single-inference latency <= T (Sec. 9.4)")

    def describe(self) -> str:
        return f"objective.max_latency_s = {self.config.max_latency_s} s" if self.config.max_latency_s is not None else ""


@objectives.register("carbon", requires=("cadi",),
                     doc="minimize the carbon footprint CF over the duration U (Eq. (9.5)), latency <= T")
@declare_custom_block(name="CarbonObjective")
class CarbonObjectiveData(CappedObjectiveData):
    """Minimize CF = sum_d C_d EF_d; Dinkelbach iterations for the general form."""

    CONFIG = CappedObjectiveData.CONFIG()
    CONFIG.declare("tolerance", ConfigValue(default=1e-9, domain=PositiveFloat,
                                            description="Dinkelbach stop: min G - lambda tau >= -tolerance G"))
    CONFIG.declare("max_iterations", ConfigValue(default=50, domain=PositiveInt, description="Dinkelbach steps"))

    def build(self, ctx: ModelContext) -> None:
        cadi = ctx.require("cadi", "objective carbon")
        cadi.require_carbon("objective carbon")
        self.add_latency_cap(ctx)
        num, den = cadi.footprint_ratio()
        self.duration_s = cadi.duration
        self.iterations = []
        if den is None:
            self.ratio = False
            self.Objective = pyo.Objective(expr=num, sense=pyo.minimize, doc="min CF, Eqs. (9.4)-(9.5)")
        else:
            self.ratio = True
            self._parts = (num, den)
            self.lam = pyo.Param(mutable=True, initialize=0.0, doc="Dinkelbach lambda, mgCO2/s")
            self.Objective = pyo.Objective(expr=num - self.lam * den, sense=pyo.minimize,
                                           doc="Dinkelbach step: min G - lambda tau (CF = U G / tau)")

    def solve_model(self, ctx: ModelContext, solve_once):
        """Solve (once for the linear form, Dinkelbach steps for the ratio) and return the
        SolveResult whose objective is CF in mgCO2 over U."""
        if not self.ratio:
            return solve_once()
        num, den = self._parts
        self.iterations = []
        total_s = 0.0
        lam = 0.0  # step 0 only finds a feasible plan; its ratio starts the iterations
        for step in range(self.config.max_iterations + 1):
            self.lam = lam
            sol = solve_once()
            total_s += sol.solve_s
            g, tau = float(pyo.value(num)), float(pyo.value(den))
            f = g - lam * tau
            self.iterations.append({"lambda_mg_per_s": lam, "G_mg": g, "cycle_s": tau, "value": f})
            if step > 0 and f >= -self.config.tolerance * max(abs(g), 1e-12):
                break  # no plan has a lower ratio than lambda: lambda = G / tau is optimal
            lam = g / tau
        else:
            raise SolverError(f"Dinkelbach did not converge in {self.config.max_iterations} steps "
                              "(raise objective.max_iterations)", source="objective", field="max_iterations")
        sol.objective = self.duration_s * g / tau
        sol.bound = None
        sol.gap = None
        sol.solve_s = total_s
        sol.extra["dinkelbach_steps"] = len(self.iterations)
        return sol

    def report(self, ctx: ModelContext) -> dict:
        return {"method": "dinkelbach" if self.ratio else "linear", "steps": self.iterations,
                "carbon_footprint_mg": float(self.duration_s * pyo.value(self._parts[0]) / pyo.value(self._parts[1]))
                if self.ratio else float(pyo.value(self.Objective))}


@objectives.register("energy_single", requires=("cadi",),
                     doc="minimize the energy of one inference E = sum_d (E^c_d + E^x_d) (Sec. 9.3), latency <= T")
@declare_custom_block(name="EnergySingleObjective")
class EnergySingleObjectiveData(CappedObjectiveData):
    """Minimize E = sum over the CADI devices of E^c_d + E^x_d."""

    CONFIG = CappedObjectiveData.CONFIG()

    def build(self, ctx: ModelContext) -> None:
        cadi = ctx.require("cadi", "objective energy_single")
        self.add_latency_cap(ctx)
        self.energy_J = pyo.Expression(expr=sum(device_energy(ctx, d) for d in cadi.CADI_DEVICES),
                                       doc="E = sum_d (E^c_d + E^x_d)")
        self.Objective = pyo.Objective(expr=self.energy_J, sense=pyo.minimize, doc="min E, Sec. 9.3")


@objectives.register("carbon_per_inference", requires=("cadi",),
                     doc="minimize carbon per inference G = sum_d C_d (E^c_d + E^x_d + E^h_d), latency <= T")
@declare_custom_block(name="CarbonPerInferenceObjective")
class CarbonPerInferenceObjectiveData(CappedObjectiveData):
    """Minimize G, mgCO2 per inference, hold energy included (linear)."""

    CONFIG = CappedObjectiveData.CONFIG()

    def build(self, ctx: ModelContext) -> None:
        cadi = ctx.require("cadi", "objective carbon_per_inference")
        cadi.require_carbon("objective carbon_per_inference")
        self.add_latency_cap(ctx)
        self.Objective = pyo.Objective(expr=cadi.carbon_per_inference_mg, sense=pyo.minimize, doc="min G")

