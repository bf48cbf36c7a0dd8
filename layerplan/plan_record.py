"""Result records from a plan, without a Pyomo model, and the fast paths of the API (issue 12).

:func:`plan_record` computes, analytically from a plan (a device per layer and, with bundle
formulations, the chosen bundles (i, j, d, f)), the same result record that
``layerplan.results.collect`` reads from a solved Pyomo model: the latency terms of the base
ILP (Eqs. (5.4)-(5.6)) or with preloading (Eq. (6.2)); with DIME/JointDNN the estimated
latency of the chosen bundles (Eq. (7.2)) and the actual latency of the plan
(``bundle_eval.actual_latency_s``); with FreDDI the frequencies and the edge devices'
energies (Eqs. (8.3)-(8.6)). tests/component/test_plan_record.py checks that the record of
the MILP's plan equals ``collect``'s record key by key (the oracle that keeps the fast paths
honest).

:func:`fast_solve` answers ``layerplan.api.solve_scenario`` *before* any Pyomo build:

* ``dp``: the composition is one the exact chain DP (``layerplan.dp``) solves and its plan
  carries the certificate (memory, DIME ceiling, one frequency per device): optimal.
* ``direct`` / ``direct (DP-pruned)``: a bundle composition the direct HiGHS backend builds
  (``layerplan.direct``); with the DIME ceiling the DP's bounds first remove the provably
  useless bundle and device-change columns (``dp.prune_masks``, exact).
* otherwise ``None``: the caller builds the Pyomo model as before.

``solver.backend``: ``auto`` (direct when supported, else Pyomo) | ``direct`` (error when
unsupported) | ``pyomo``; ``solver.fast_path``: ``auto`` | ``dp`` (the DP first) | ``off``.
``auto`` takes only compositions that the tests prove equal to the Pyomo path: formulations
base, preload, dime, jointdnn, freddi (default energy devices, one frequency), objectives
``latency`` and ``energy`` without options, no constraint plugin; plugins, caps, CADI,
throughput, carbon, privacy go to Pyomo.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Mapping

from layerplan.latency import LatencyParams, plan_latency_s
from layerplan.results import orchestrator_plan, ratio_of_compute, transitions

FAST_FORMULATIONS = {"base", "preload", "dime", "jointdnn", "freddi"}
BUNDLES = ("dime", "jointdnn")
# options a fast path understands (anything else: Pyomo)
_KNOWN_OPTIONS = {
    "base": {"linearization", "memory", "mutable_bandwidth"},
    "preload": {"linearization"},
    "dime": {"mbs", "ceiling", "form"},
    "jointdnn": {"mbs", "ceiling", "form"},
    "freddi": {"energy_devices", "one_frequency", "link"},
}
# default when a solver config does not say (tests/conftest.py may set pyomo for the formulation tests)
ENV_BACKEND = "LAYERPLAN_SOLVER_BACKEND"
ENV_FAST_PATH = "LAYERPLAN_SOLVER_FAST_PATH"


def solver_modes(solver: Mapping[str, Any] | None) -> tuple[str, str]:
    """(backend, fast_path) of a solver config: backend auto|pyomo|direct, fast_path auto|dp|off."""
    from layerplan.errors import ConfigError

    cfg = solver or {}
    backend = cfg.get("backend") or os.environ.get(ENV_BACKEND) or "auto"
    fast = cfg.get("fast_path")
    if fast is None:
        fast = os.environ.get(ENV_FAST_PATH) or "auto"
    fast = "off" if fast is False else str(fast)
    if backend not in ("auto", "pyomo", "direct"):
        raise ConfigError(f"unknown backend {backend!r} (auto | pyomo | direct)", field="solver.backend")
    if fast not in ("auto", "dp", "off"):
        raise ConfigError(f"unknown fast path {fast!r} (auto | dp | off)", field="solver.fast_path")
    return backend, fast


def _opts(comp) -> dict[str, dict]:
    return {e.name: dict(o or {}) for e, o in comp.formulations}


def validate_options(comp) -> None:
    """Check every block's options as the Pyomo build does (``ContributionData.configure``),
    so that bad input fails the same way on every path."""
    from layerplan.errors import ConfigError

    items = [(e, o, f"formulation.{e.name}") for e, o in comp.formulations]
    items += [(e, o, f"constraints.{e.name}") for e, o in comp.constraints]
    items.append((comp.objective[0], comp.objective[1], "objective"))
    for entry, opts, where in items:
        config = getattr(entry.obj, "CONFIG", None)
        if config is None:
            continue
        try:
            config(dict(opts or {}))
        except ValueError as exc:
            msg = str(exc).replace("\n", " ").replace("\t", "")
            raise ConfigError(f"{msg} (options: {', '.join(config.keys()) or 'none'})", field=where) from None


def fast_applicable(comp, params: LatencyParams) -> str | None:
    """None when a fast path (DP or direct) may answer this composition, else why not."""
    opts = _opts(comp)
    names = set(opts)
    if getattr(params, "edges", None) is not None:
        return "a DAG network (docs/dag.md): the chain DP and the direct backend model chains only"
    if not names <= FAST_FORMULATIONS:
        return f"formulation(s) {sorted(names - FAST_FORMULATIONS)}"
    if comp.constraints:
        return "constraint plugins " + ", ".join(e.name for e, _ in comp.constraints)
    oname, oopts = comp.objective[0].name, comp.objective[1]
    if oname not in ("latency", "energy") or oopts:
        return f"objective {oname!r}" + (" with options" if oopts else "")
    for n, o in opts.items():
        extra = set(o) - _KNOWN_OPTIONS[n]
        if extra:
            return f"{n} options {sorted(extra)}"
    bundle = [n for n in BUNDLES if n in names]
    if "freddi" in names:
        fr = opts["freddi"]
        if fr.get("energy_devices", "edge") not in (None, "edge") or not fr.get("one_frequency", True):
            return "freddi options other than the defaults"
    if bundle:
        if "preload" in names:
            return "preload with bundles"
        bl = params.bundles
        if bl is None:
            return "no bundle profiles"  # the Pyomo path raises its own error
        if any(params.exec_prob[l] != 1.0 for l in range(params.n_layers)):
            return "early-exit probabilities with bundles"
        if "freddi" not in names and any(len(f) > 1 for f in bl.freqs):
            return "several frequencies without freddi"
        if opts[bundle[0]].get("ceiling") and bundle[0] == "jointdnn":
            return "jointdnn with a ceiling"
    if oname == "energy":
        if "freddi" not in names or not bundle:
            return "energy outside dime|jointdnn + freddi"
    return None


def _bundle_setup(comp, params):
    opts = _opts(comp)
    name = next(n for n in BUNDLES if n in opts)
    o = opts[name]
    K = len(params.bundles.real_layers)
    mbs = min(int(o.get("mbs") or K), K)
    ceiling = bool(o.get("ceiling", name == "dime"))
    return name, mbs, ceiling


def dp_plan(comp, params: LatencyParams):
    """(plan, None) when the DP answers with a certificate, else (None or the DP's relaxed plan, why)."""
    from layerplan import dp

    opts = _opts(comp)
    memory = bool(opts["base"].get("memory", True))
    oname = comp.objective[0].name
    if not any(n in opts for n in BUNDLES):
        plan = dp.base_dp(params, preload="preload" in opts)
        why = dp.certify(params, plan, memory=memory)
        return (plan, None) if why is None else (None, why)
    name, mbs, ceiling = _bundle_setup(comp, params)
    params.bundles.require(mbs)
    if not ceiling and oname != "latency":
        return None, "energy without the DIME ceiling (no DP for it here)"
    plan = dp.segment_dp(params, mbs, oname) if ceiling else dp.bundle_dp(params, mbs)
    why = dp.certify(params, plan, memory=memory, mbs=mbs, ceiling=ceiling, one_frequency="freddi" in opts)
    return (plan, None) if why is None else (plan, why)


def _objective_value(comp, params, rec) -> float:
    if comp.objective[0].name == "energy":
        return float(sum(v["total"] for v in rec["freddi"]["energy_J"].values()))
    return rec["latency_s"]["total"]


def term_owners(comp, params) -> dict[str, list[str]]:
    """The term lists and their owners that the composition's blocks declare (as collect reports)."""
    names = comp.formulation_names
    bundle = next((n for n in BUNDLES if n in names), None)
    out = {"latency.compute": [bundle or "base"], "latency.communication": ["base"],
           "latency.weight": [bundle or ("preload" if "preload" in names else "base")]}
    for d in params.devices:
        out[f"stage.compute@{d}"] = [bundle or "base"]
        out[f"stage.weight@{d}"] = [bundle or ("preload" if "preload" in names else "base")]
    if "freddi" in names:
        for d in _energy_devices(params):
            out[f"energy.compute@{d}"] = ["freddi"]
            out[f"energy.communication@{d}"] = ["freddi"]
    return out


def _energy_devices(params) -> list[str]:
    return [d for d, c in zip(params.devices, params.device_classes) if c == "edge"]


def plan_record(scenario, params: LatencyParams, comp, assignment: list[int], bundles=None, *,
                method: str, status: str = "optimal", termination: str | None = None,
                objective_bound: float | None = None, mip_gap: float | None = 0.0,
                solve_s: float = 0.0, build_s: float = 0.0, solver: Mapping[str, str] | None = None,
                model_size: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The result record of a plan (module docstring); the keys of ``results.collect``.
    ``bundles``: (i, j, device index, frequency index) with global layer indexes."""
    from layerplan import __version__

    names = comp.formulation_names
    a = [int(v) for v in assignment]
    p = params
    reports: dict[str, Any] = {}
    bundle = next((n for n in BUNDLES if n in names), None)
    if bundle is None:
        latency = plan_latency_s(p, a, preload="preload" in names)
        latency = {k: latency[k] for k in ("compute", "communication", "weight")}
    else:
        from layerplan.bundle_eval import actual_latency_s, comm_energy_J
        from layerplan.profiles import profile_count, profile_count_eq_7_6

        bl = p.bundles
        bundles = sorted((int(i), int(j), int(d), int(f)) for i, j, d, f in bundles)
        pseudo = [l for l in range(p.n_layers) if p.pseudo[l] is not None]
        prob = p.exec_prob
        # Eq. (7.2) + pseudo layers' Eq. (4.1); Eq. (5.5); pseudo layers' Eq. (4.2)
        compute = sum(bl.latency_s[b] for b in bundles) + sum(prob[l] * p.compute_s[l, a[l]] for l in pseudo)
        comm = sum(prob[l + 1] * p.comm_s[l, a[l], a[l + 1]] for l in range(len(a) - 1))
        weight = sum(prob[l] * p.weight_s[l, a[l]] for l in pseudo)
        latency = {"compute": float(compute), "communication": float(comm), "weight": float(weight)}
        _, mbs, ceiling = _bundle_setup(comp, p)
        K = len(bl.real_layers)
        freq = {p.devices[d]: f for i, j, d, f in bundles}
        rep = {
            "mbs": mbs,
            "ceiling": ceiling,
            "profiles_per_device": profile_count(K, mbs),
            "profiles_per_device_eq_7_6": profile_count_eq_7_6(K, mbs),
            "profiles_total": profile_count(K, mbs) * p.n_devices,
            "bundles": [{"first": p.layers[i], "last": p.layers[j], "device": p.devices[d],
                         "frequency": bl.freqs[d][f], "i": bl.real_layers.index(i) + 1,
                         "j": bl.real_layers.index(j) + 1} for i, j, d, f in bundles],
            "estimated_latency_s": float(sum(latency.values())),
            "frequency": {d: bl.freqs[k][freq[d]] for k, d in enumerate(p.devices) if d in freq},
        }
        findex = [freq.get(d, 0) for d in p.devices]
        if bl.complete:
            rep["actual_latency_s"] = actual_latency_s(p, a, findex)
        reports[bundle] = rep
        if "freddi" in names:
            energy = {}
            for d in _energy_devices(p):
                k = p.devices.index(d)
                ec = float(sum(bl.energy_J[b] for b in bundles if b[2] == k))  # Eq. (8.3)
                ex = comm_energy_J(p, a, k)  # Eq. (8.4) with Eqs. (8.5)-(8.6)
                energy[d] = {"compute": ec, "communication": float(ex), "total": float(ec + ex)}
            reports["freddi"] = {"frequency": {d: bl.freqs[p.devices.index(d)][f] for d, f in freq.items()},
                                 "energy_J": energy}
    latency["total"] = float(sum(latency.values()))
    rec = {
        **reports,
        "status": status,
        "termination": termination or f"{method}: optimal (certified)",
        "objective": None,
        "objective_bound": objective_bound,
        "mip_gap": mip_gap,
        "method": method,
        "scenario": scenario.name,
        "dnn": scenario.dnn.name,
        "granularity": scenario.dnn.granularity,
        "devices": list(p.devices),
        "formulations": list(names),
        "constraints": [e.name for e, _ in comp.constraints],
        "objective_name": comp.objective[0].name,
        "assignment": [{"layer": p.layers[l], "device": p.devices[d]} for l, d in enumerate(a)],
        "plan": orchestrator_plan(p, a),
        "transitions": transitions(p, a),
        "latency_s": latency,
        "ratio_of_compute": ratio_of_compute(p, a),
        "ratio_of_compute_static": ratio_of_compute(p, a, expected=False),
        "term_owners": term_owners(comp, p),
        "model_size": dict(model_size) if model_size is not None else {"model": f"none ({method})"},
        "timing_s": {"build": build_s, "solve": solve_s},
        "solver": dict(solver) if solver is not None else {"name": "layerplan.dp", "version": __version__},
    }
    rec["objective"] = _objective_value(comp, p, rec)
    if rec["objective_bound"] is None:
        rec["objective_bound"] = rec["objective"]
    return rec


def _direct_supported(comp) -> str | None:
    from layerplan.direct import supported

    opts = _opts(comp)
    base = opts.pop("base")
    base = {k: v for k, v in base.items() if k != "mutable_bandwidth"}
    return supported(opts, comp.objective[0].name, base)


def fast_solve(scenario, params: LatencyParams, comp, solver: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The result record from the DP or the direct backend, or None (-> the Pyomo path)."""
    from layerplan.errors import ConfigError

    backend, fast = solver_modes(solver)
    if backend == "pyomo":
        return None  # the Pyomo path (which runs the in-model DP itself with fast_path=dp)
    validate_options(comp)
    from layerplan.errors import SolverError
    from layerplan.solve import SOLVERS

    if (solver or {}).get("name", "highs") not in SOLVERS:
        raise SolverError(f"unknown solver {(solver or {}).get('name')!r} (known: {', '.join(SOLVERS)})",
                          source="solver", field="name")
    why = fast_applicable(comp, params)
    name = (solver or {}).get("name", "highs")
    if why is not None:
        if backend == "direct":
            raise ConfigError(f"the direct backend does not solve this composition: {why}", field="solver.backend")
        return None
    relaxed = None
    if fast in ("auto", "dp"):
        t0 = time.perf_counter()
        plan, why = dp_plan(comp, params)
        if plan is not None and why is None:
            return plan_record(scenario, params, comp, plan.assignment, plan.bundles, method="dp",
                               solve_s=time.perf_counter() - t0)
        relaxed = plan
    if name != "highs" or _direct_supported(comp) is not None:
        if backend == "direct":
            raise ConfigError("the direct backend builds base + dime|jointdnn [+ freddi] (flow forms) with highs: "
                              + (_direct_supported(comp) or f"solver {name!r}"), field="solver.backend")
        return None
    return _direct(scenario, params, comp, solver, relaxed)


def _direct(scenario, params, comp, solver, relaxed) -> dict[str, Any]:
    from layerplan import dp
    from layerplan.direct import build_direct

    opts = _opts(comp)
    base = {k: v for k, v in opts.pop("base").items() if k != "mutable_bandwidth"}
    oname = comp.objective[0].name
    t0 = time.perf_counter()
    keep = drop = None
    method = "direct"
    pruned = None
    _, mbs, ceiling = _bundle_setup(comp, params)
    if relaxed is not None and ceiling and math.isfinite(relaxed.latency_s):
        upper, _ = dp.feasible_plan(params, mbs, oname, first=relaxed, memory=bool(base.get("memory", True)))
        if upper is not None:
            keep, drop = dp.prune_masks(params, mbs, oname, upper.latency_s)
            method = "direct (DP-pruned)"
            pruned = {"upper": upper.latency_s, "lower": relaxed.latency_s, "kept_y": len(keep), "fixed_z": len(drop)}
    model = build_direct(scenario, params, opts, oname, base, keep_bundles=keep, drop_z=drop)
    build_s = time.perf_counter() - t0
    cfg = {k: v for k, v in (solver or {}).items() if k in ("time_limit_s", "mip_rel_gap", "mip_abs_gap", "threads",
                                                             "options", "tee")}
    res = model.solve(cfg)
    rec = plan_record(scenario, params, comp, res.extra["assignment"], res.extra["bundles"], method=method,
                      status=res.status, termination=res.termination, objective_bound=res.bound, mip_gap=res.gap,
                      solve_s=res.solve_s, build_s=build_s,
                      solver={"name": "highs", "version": str(res.solver_version)},
                      model_size={"variables": model.n_cols, "constraints": model.n_rows,
                                  "backend": "direct (highspy)"})
    if pruned:
        rec["dp_pruned"] = pruned
    if not math.isclose(rec["objective"], res.objective, rel_tol=1e-6, abs_tol=1e-12):
        from layerplan.errors import SolverError

        raise SolverError(f"direct backend: plan value {rec['objective']!r} != solver objective {res.objective!r}",
                          source="solver", field="objective")
    return rec


__all__ = ["plan_record", "fast_solve", "fast_applicable", "dp_plan", "solver_modes", "term_owners"]
