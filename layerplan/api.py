"""Python entry points: build, solve and collect in one call."""

from __future__ import annotations

from typing import Any, Mapping

from layerplan.build import build_model, compose
from layerplan.latency import LatencyParams, analytic_params
from layerplan.results import collect
from layerplan.scenario import Scenario
from layerplan.solve import solve


def active_caps(built) -> list[str]:
    caps = []
    if getattr(built.base.config, "memory", False) and hasattr(built.base, "memory_Constraint"):
        caps.append("memory per device (Eq. (5.2))")
    for key, blk in built.ctx.active.items():
        if hasattr(blk, "describe") and blk.describe():
            caps.append(blk.describe())
    pinned = built.ctx.params.pinned
    if pinned:
        caps.append("pinned layers " + ", ".join(f"{built.ctx.params.layers[l]}->{built.ctx.params.devices[d]}" for l, d in pinned.items()))
    return caps


def solve_built(built, solver: Mapping[str, Any] | None = None, *, opt=None):
    """Solve a built model. An objective block with a ``solve_model(ctx, solve_once)``
    method (e.g. ``carbon``'s Dinkelbach iterations) drives the solver itself."""
    caps = active_caps(built)
    if (solver or {}).get("fast_path") == "dp" or ((solver or {}).get("backend") == "pyomo"
                                                   and (solver or {}).get("fast_path") == "auto"):
        # Exact DP for latency-only chains (layerplan.dp); declines (-> MILP) without a certificate.
        from layerplan.dp import solve_fast_path

        fast = solve_fast_path(built)
        if fast is not None:
            return fast

    def once():
        return solve(built.model, solver, caps=caps, opt=opt)

    obj = built.ctx.active.get(f"objective:{built.composition.objective[0].name}")
    custom = getattr(obj, "solve_model", None)
    sol = custom(built.ctx, once) if custom is not None else once()
    if built.ctx.shared.get("dp_pruned"):  # the fast path fixed provably useless variables first
        sol.extra = {**sol.extra, "method": "milp (DP-pruned)", "dp_pruned": built.ctx.shared["dp_pruned"]}
    return sol


def solve_scenario(
    scenario: Scenario,
    *,
    formulation: Mapping[str, Any] | list[str] | None = ("preload",),
    constraints: Mapping[str, Any] | None = None,
    objective: str | Mapping[str, Any] = "latency",
    model: Mapping[str, Any] | None = None,
    solver: Mapping[str, Any] | None = None,
    params: LatencyParams | None = None,
    profiles=None,
    profile_map: Mapping[str, str] | None = None,
    profile_frequency: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compose, build and solve; return the result record (README: result.json).

    ``profiles`` (a :class:`layerplan.profiles.ProfileSet`) supplies bundle latencies for
    DIME/JointDNN; each scenario device uses the profile label ``profile_map[name]``, else
    its catalogue spec, else its name; ``profile_frequency[name]`` restricts its frequencies
    (``max``, ``min``, ``governor``, a number of Hz; default all).
    """
    comp = compose(list(formulation) if isinstance(formulation, tuple) else formulation, constraints, objective, model)
    params = params if params is not None else analytic_params(scenario)
    if profiles is not None:
        from layerplan.profiles import bundle_latency

        params.bundles = bundle_latency(params, profiles, profile_map, {d.name: d.spec for d in scenario.devices if d.spec},
                                        profile_frequency)
    from layerplan.plan_record import fast_solve  # DP / direct backend before any Pyomo build (issue 12)

    fast = fast_solve(scenario, params, comp, solver)
    if fast is not None:
        return fast
    built = build_model(scenario, params, comp)
    sol = solve_built(built, solver)
    return collect(built, sol)
