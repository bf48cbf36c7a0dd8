"""Baselines the thesis compares against, as runs with the same result record.

- ``exhaustive``: the optimum by enumeration (Ch. 7's "Optimal"): every single-entry plan
  (or every plan), scored with the actual latency under bundle profiles, else with the
  analytic model (Eqs. (5.4)-(5.6), Eq. (6.2) when preloading is among the formulations).
- ``single_device``: every real layer on one device (configuration C0 of Ch. 6 for each
  device in turn); the best device is the plan.

JointDNN and the fixed-frequency variants are formulations (``+formulation=[jointdnn]``),
since they are ILPs.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from layerplan.bundle_eval import actual_latency_s, count_plans, exhaustive_optimum, real_layers
from layerplan.errors import ConfigError, SolverError
from layerplan.latency import LatencyParams, plan_latency_s
from layerplan.oracle import feasible_memory
from layerplan.results import orchestrator_plan, ratio_of_compute, transitions


def _scorer(params: LatencyParams, formulations: list[str]):
    if params.bundles is not None:
        return lambda p, a: actual_latency_s(p, a), "actual latency (bundle profiles)"
    preload = "preload" in formulations
    return (lambda p, a: plan_latency_s(p, a, preload=preload),
            f"analytic latency ({'Eq. (6.2) preload' if preload else 'Eqs. (5.4)-(5.6)'})")


def run_baseline(scenario, params: LatencyParams, cfg: Mapping[str, Any], formulations: list[str]) -> dict[str, Any]:
    name = cfg.get("name")
    breakdown, how = _scorer(params, formulations)
    t0 = time.perf_counter()
    if name == "exhaustive":
        single = bool(cfg.get("single_entry", True))
        n = count_plans(params, single_entry=single)
        if n > int(cfg.get("max_plans", 2_000_000)):
            raise SolverError(f"exhaustive search over {n} plans exceeds baseline.max_plans={cfg.get('max_plans')}",
                              source="baseline", field="max_plans")
        best, plan = exhaustive_optimum(params, single_entry=single, score=lambda p, a: breakdown(p, a)["total"])
        size = {"plans": n}
    elif name == "single_device":
        import itertools

        from layerplan.bundle_eval import pseudo_choices, with_pseudo

        best, plan, per_device = float("inf"), None, {}
        n_real = len(real_layers(params))
        for d in range(params.n_devices):
            # every real layer on d; unpinned pseudo layers (preprocess) where they are best
            for pseudo in itertools.product(*pseudo_choices(params)):
                a = with_pseudo(params, [d] * n_real, pseudo)
                if a is None or not feasible_memory(params, a):
                    continue
                val = breakdown(params, a)["total"]
                if val < per_device.get(params.devices[d], float("inf")):
                    per_device[params.devices[d]] = val
                if val < best:
                    best, plan = val, a
        size = {"plans": params.n_devices}
    elif name in ("pipeline_dp", "offload"):
        from layerplan.stream import stream_baseline

        best, plan, size, extra = stream_baseline(scenario, params, cfg, formulations)
    else:
        raise ConfigError(f"unknown baseline {name!r} (known: exhaustive, single_device, pipeline_dp, offload)",
                          field="baseline.name")
    if plan is None:
        raise SolverError(f"no feasible plan for baseline {name!r} (memory or pinned layers)", source="baseline",
                          field="status")
    elapsed = time.perf_counter() - t0
    lat = breakdown(params, plan)
    record = {
        "status": "optimal",
        "termination": f"enumeration ({how})",
        "objective": best,
        "objective_bound": best,
        "mip_gap": 0.0,
        "scenario": scenario.name,
        "dnn": scenario.dnn.name,
        "granularity": scenario.dnn.granularity,
        "devices": list(params.devices),
        "formulations": list(formulations),
        "baseline": name,
        "constraints": [],
        "objective_name": "latency",
        "assignment": [{"layer": params.layers[l], "device": params.devices[d]} for l, d in enumerate(plan)],
        "plan": orchestrator_plan(params, plan),
        "transitions": transitions(params, plan),
        "latency_s": lat,
        "ratio_of_compute": ratio_of_compute(params, plan),
        "ratio_of_compute_static": ratio_of_compute(params, plan, expected=False),
        "model_size": size,
        "timing_s": {"build": 0.0, "solve": elapsed},
        "solver": {"name": name, "version": ""},
    }
    if name == "single_device":
        record["single_device_latency_s"] = per_device
    if name in ("pipeline_dp", "offload"):
        record.update(extra)
        record["objective_name"] = "throughput"
        record["termination"] = ("dynamic programming" if name == "pipeline_dp" else "enumeration") + \
            f" (pipeline cycle, {extra['throughput']['mode']} latency model)"
    if params.bundles is not None:
        record["actual_latency_s"] = lat
    return record
