"""Re-solve one built model across network bandwidths instead of rebuilding it.

The base block is built with ``mutable_bandwidth`` (1/BW[d, d'] a mutable Pyomo
parameter); each point updates the parameter from the scenario's link rule (Sec. 4.3)
at the new network bandwidth and re-solves with the same persistent solver, which only
pushes the changed coefficients. ``python -m layerplan.experiments.benchmark --sweep``
measures the gain against rebuilding.

When the composition is one the exact chain DP answers (``layerplan.plan_record``:
base / preload chains, latency objective, no plugin; ``solver.fast_path`` auto|dp and
``solver.backend`` not ``pyomo``), each point is solved by the DP on the point's
parameters and its record computed from the plan (``method: dp``); a point whose DP plan
breaks a memory cap is re-solved with the built model (built on first need).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Mapping, Sequence

from layerplan.build import build_model, compose
from layerplan.errors import ConfigError, SolverError
from layerplan.latency import analytic_params
from layerplan.results import collect
from layerplan.scenario import Scenario
from layerplan.solve import persistent_solver, solve


def sweep_bandwidth(
    scenario: Scenario,
    bandwidths_Bps: Sequence[float],
    *,
    formulation: Mapping[str, Any] | list[str] = ("preload",),
    constraints: Mapping[str, Any] | None = None,
    objective: str | Mapping[str, Any] = "latency",
    model: Mapping[str, Any] | None = None,
    solver: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One result record per network bandwidth, from one built model."""
    comp = compose(list(formulation) if isinstance(formulation, tuple) else formulation, constraints, objective,
                   {**(model or {}), "mutable_bandwidth": True})
    if any(e.name == "freddi" for e, _ in comp.formulations):
        raise ConfigError("sweep_bandwidth does not update FreDDI's communication energy; solve each point instead",
                          field="formulation")
    params = analytic_params(scenario)
    from layerplan.plan_record import fast_applicable, plan_record, solver_modes

    backend, fast = solver_modes(solver)
    names = set(comp.formulation_names)
    use_dp = (backend != "pyomo" and fast != "off" and names <= {"base", "preload"}
              and fast_applicable(comp, params) is None)
    if use_dp:
        from layerplan.plan_record import validate_options

        validate_options(comp)
    built = opt = None
    results = []
    for bw in bandwidths_Bps:
        t0 = time.perf_counter()
        sc = dataclasses.replace(scenario, network=dataclasses.replace(scenario.network, bandwidth_Bps=float(bw)))
        links = sc.link_matrix_Bps()
        if use_dp:
            from layerplan.dp import base_dp, certify

            # Eq. (4.3) at this bandwidth, exactly as analytic_params computes it
            pt = dataclasses.replace(params, bandwidth_Bps=links,
                                     comm_s=params.out_bytes[:-1, None, None] / links[None, :, :])
            plan = base_dp(pt, preload="preload" in names)
            memory = bool(comp.formulations[0][1].get("memory", True))
            if certify(pt, plan, memory=memory) is None:
                rec = plan_record(sc, pt, comp, plan.assignment, method="dp", solve_s=time.perf_counter() - t0)
                rec["bandwidth_Bps"] = float(bw)
                results.append(rec)
                continue
        if built is None:
            built = build_model(scenario, params, comp)
            opt = persistent_solver((solver or {}).get("name", "highs"))
        base = built.base
        for i, d in enumerate(params.devices):
            for j, e in enumerate(params.devices):
                base.inv_bandwidth[d, e] = 1.0 / links[i, j]
        update_s = time.perf_counter() - t0
        try:
            sol = solve(built.model, solver, opt=opt)
        except SolverError as exc:
            results.append({"status": "error", "error": exc.one_line(), "bandwidth_Bps": float(bw)})
            continue
        rec = collect(built, sol)
        rec["bandwidth_Bps"] = float(bw)
        rec["timing_s"]["build"] = built.build_s if not results else update_s
        results.append(rec)
    return results


def resolve_with(built, values: Mapping[str, float], solver: Mapping[str, Any] | None = None, opt=None):
    """Set mutable parameters by component name (e.g. ``{"constraint_latency_cap.max_latency_s": 0.2}``
    or ``objective_latency_cons.max_latency_s``) and re-solve the built model; returns the
    result record. Pass the same ``opt`` (``layerplan.solve.persistent_solver()``) to every
    call so the solver keeps its model."""
    for name, value in values.items():
        comp = built.model.find_component(name)
        if comp is None or not getattr(comp.parent_component(), "mutable", False):
            raise ConfigError(f"no mutable parameter {name!r} in the model", field="sweep")
        comp.set_value(float(value))
    from layerplan.api import solve_built

    sol = solve_built(built, solver, opt=opt)
    return collect(built, sol)
