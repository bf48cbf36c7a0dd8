"""``python run.py`` jobs on the DynaSplit data (config key ``dynasplit.task``; docs/dynasplit.md).

``solve``    ``profiles=dynasplit_vgg16|dynasplit_vit``: the mode ILP on the pool's segment model with the
             configured objective (``energy`` | ``latency`` | ``latency_cons`` with ``max_latency_s`` |
             ``energy_cons`` with ``max_energy_J``) and an optional ``dynasplit.min_accuracy``; prints the
             configuration, its modelled and (when measured) its measured values; writes result.json.
``offline``  ``experiment=dynasplit_offline``; ``sim``  ``experiment=dynasplit_sim``: reports in the job folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from layerplan.errors import ConfigError, LayerplanError


def run_job(cfg: dict, output_dir: Path, *, multirun: bool = False) -> dict:
    ds = cfg.get("dynasplit") or {}
    task = ds.get("task")
    try:
        if task == "solve":
            result = solve_task(cfg, ds)
        elif task == "offline":
            result = offline_task(ds, output_dir)
        elif task == "sim":
            result = sim_task(ds, output_dir)
        else:
            raise ConfigError(f"unknown task {task!r} (solve | offline | sim)", field="dynasplit.task")
        error = None
    except LayerplanError as exc:
        error = exc
        result = {"status": "error", "error": exc.one_line(), "error_type": type(exc).__name__}
    result["experiment"] = cfg.get("experiment_name")
    result["output_dir"] = str(output_dir)
    from layerplan.results import write_json

    write_json(output_dir / "result.json", result, indent=2, default=str)
    if error is not None:
        print(f"layerplan: error: {error.one_line()}", file=sys.stderr)
        if not multirun:
            sys.exit(error.exit_code)
    return result


def solve_task(cfg: dict, ds: dict) -> dict:
    from layerplan.dynasplit import data as D
    from layerplan.dynasplit.loader import measured_table, parse_modes, segment_chain
    from layerplan.dynasplit.modes import SOLVER, solve_plan

    net = ds.get("network")
    pool = D.load_pool(net, ds.get("dir"), additional=bool(ds.get("additional")))
    chain = segment_chain(pool)
    obj = cfg.get("objective") or {}
    name = obj.get("name", "energy")
    kw = {}
    if name == "latency_cons":
        kw = {"objective": "energy", "max_latency_ms": 1000.0 * float(obj["max_latency_s"])}
    elif name == "energy_cons":
        kw = {"objective": "latency", "max_energy_J": float(obj["max_energy_J"])}
    elif name in ("energy", "energy_single"):
        kw = {"objective": "energy"}
    elif name == "latency":
        kw = {"objective": "latency"}
    else:
        raise ConfigError(f"objective {name!r} is not available on the DynaSplit data (energy | latency | latency_cons | "
                          "energy_cons)", field="objective.name")
    if ds.get("min_accuracy") is not None:
        if not chain.has_accuracy:
            raise ConfigError(f"the {net} pool has no accuracy column", field="dynasplit.min_accuracy")
        kw["min_accuracy"] = float(ds["min_accuracy"])
    solver = {**SOLVER, **{k: v for k, v in (cfg.get("solver") or {}).items() if k in ("time_limit_s", "threads")}}
    plan = solve_plan(chain, solver=solver, **kw)
    if plan is None:
        raise LayerplanError("the model is infeasible under the given caps", source="solver", field="status")
    c = parse_modes(plan.bounds, plan.modes)
    table = measured_table(pool)
    idx = {k: i for i, k in enumerate(table["configs"])}
    measured = None
    if c in idx:
        i = idx[c]
        measured = {"latency_ms": float(table["latency_ms"][i]), "energy_J": float(table["energy_J"][i]),
                    "rows": int(table["rows"][i])}
    res = {"status": "ok", "network": net, "objective": name, "configuration": c.label(),
           "cpu_freq_MHz": c.freq_MHz, "split_layer": c.layer, "edge_accelerator": c.tpu, "server_accelerator": c.gpu,
           "modes": {"edge": plan.modes[0], "cloud": plan.modes[1]},
           "model": {"latency_ms": plan.latency_ms, "energy_J": plan.energy_J,
                     "accuracy": plan.accuracy if chain.has_accuracy else None},
           "measured": measured, "caps": {k: v for k, v in kw.items() if k != "objective"}}
    if cfg.get("print_plan", True):
        print(f"DynaSplit {net}: {c.label()}  (edge layers 1..{c.layer} at {plan.modes[0]}, cloud at {plan.modes[1]})")
        print(f"  model:    latency {plan.latency_ms:.1f} ms, energy {plan.energy_J:.3f} J"
              + (f", accuracy {plan.accuracy:.3f}" if chain.has_accuracy else ""))
        print("  measured: " + (f"latency {measured['latency_ms']:.1f} ms, energy {measured['energy_J']:.3f} J "
                                f"({measured['rows']} pool rows)" if measured else "absent from the pool (composed from segments)"))
    return res


def offline_task(ds: dict, out: Path) -> dict:
    from layerplan.dynasplit.analysis import offline
    from layerplan.experiments.dynasplit_offline import build

    results = {net: offline(net, ds.get("dir"), nsga_seeds=list(ds.get("nsga_seeds") or [0]),
                            online_workload=ds.get("online_workload", "published_10000"), sim_seed=int(ds.get("seed", 0)))
               for net in ds.get("networks") or ["vgg16", "vit"]}
    s = build(results, out / "report")
    print((out / "report" / "report.md").read_text())
    print(f"report: {out / 'report' / 'report.md'}")
    return {"status": "ok", "report": str(out / "report" / "report.md"), "summary": s["summary"], "nsga3": s["nsga3"],
            "segment": s["segment"]}


def sim_task(ds: dict, out: Path) -> dict:
    from layerplan.dynasplit import data as D
    from layerplan.dynasplit.analysis import offline, run_sim
    from layerplan.dynasplit.nsga import available
    from layerplan.experiments.dynasplit_sim import build

    nets = ds.get("networks") or ["vgg16", "vit"]
    wl = ds.get("workloads") or ["published_50", "published_10000"]
    seed = int(ds.get("seed", 0))
    strategies = tuple(ds.get("strategies") or ())
    kw = {"strategies": strategies} if strategies else {}
    sims, nore, testbed = {}, {}, {}
    for net in nets:
        nsga_front = None
        if ds.get("nsga3") and available():
            nsga_front = offline(net, ds.get("dir"), nsga_seeds=[seed])["nsga3"][0]["front"]
        sims[net] = run_sim(net, ds.get("dir"), workload_spec=wl, seed=seed, nsga3_front=nsga_front, **kw)
        if ds.get("no_reconfiguration_table", True):
            nore[net] = run_sim(net, ds.get("dir"), workload_spec=wl, seed=seed, reconfiguration=False, nsga3_front=nsga_front, **kw)
        testbed[net] = D.testbed_summary(net, ds.get("dir"))
    robust = []
    for net in nets:
        for rs in ds.get("robustness_seeds") or []:
            r = {x["strategy"]: x for x in run_sim(net, ds.get("dir"), workload_spec=["published_10000"], seed=int(rs),
                                                   strategies=("dynasplit", "layerplan"))["rows"]}
            d, o = r["dynasplit"], r["layerplan"]
            robust.append({"network": net, "seed": int(rs), "violations_dynasplit_pct": d["qos_violation_pct"],
                           "violations_ours_pct": o["qos_violation_pct"], "energy_dynasplit_J": d["mean_energy_J"],
                           "energy_ours_J": o["mean_energy_J"],
                           "goal_met": o["qos_violation_pct"] <= d["qos_violation_pct"] and o["mean_energy_J"] <= d["mean_energy_J"]})
    s = build(sims, testbed, out / "report", settings={"seed": seed, "no_reconfig": nore, "robustness": robust})
    print((out / "report" / "report.md").read_text())
    print(f"report: {out / 'report' / 'report.md'}")
    return {"status": "ok", "report": str(out / "report" / "report.md"), "goal": s["goal"], "summary": s["rows"]}
