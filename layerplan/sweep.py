"""Re-solve one built model across network bandwidths instead of rebuilding it.

The base block is built with ``mutable_bandwidth`` (1/BW[d, d'] a mutable Pyomo
parameter); each point updates the parameter from the scenario's link rule (Sec. 4.3)
at the new network bandwidth and re-solves with the same persistent solver, which only
pushes the changed coefficients. ``python -m layerplan.experiments.benchmark --sweep``
measures the gain against rebuilding.
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
    built = build_model(scenario, params, comp)
    base = built.base
    opt = persistent_solver((solver or {}).get("name", "highs"))
    results = []
    for bw in bandwidths_Bps:
        t0 = time.perf_counter()
        sc = dataclasses.replace(scenario, network=dataclasses.replace(scenario.network, bandwidth_Bps=float(bw)))
        links = sc.link_matrix_Bps()
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
