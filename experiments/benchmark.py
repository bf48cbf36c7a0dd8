"""Build and solve times of the ILP on the thesis instances and on growing random chains.

A script that prints figures; it checks nothing and asserts nothing about time::

    python -m layerplan.experiments.benchmark [--quick] [--time-limit S] [--csv PATH]

Two tables, one row per (instance, formulation, linearization):

1. The thesis instances of Table 6.2 (AlexNet, VGG11, SSD300, VGG16 on C1 at 1e7 B/s,
   module granularity), without (base ILP, Ch. 5) and with weight preloading (Ch. 6),
   in both linearizations of z: ``flow`` (default) and ``and`` (Eq. (5.3)); and the
   default scenario, AlexNet on C3. They are loaded from the shipped config exactly as
   ``python run.py`` does (:func:`layerplan.api.scenario_from_cfg`).
2. Seeded random chains of L in (16, 32, 64, 100, 200) layers on D in (2, 4, 8, 16)
   devices, with preloading and without the memory constraint, in both linearizations.
   Each chain gets a source and a destination pseudo layer pinned to the first device,
   so the model has L + 2 layers.

Build time is :func:`layerplan.build.compose` + :func:`layerplan.build.build_model`;
solve time is :func:`layerplan.solve.solve` with HiGHS. Every solve runs under the time
limit (``--time-limit``, default 60 s); a solve that reaches it is reported as
``time limit`` with the relative gap of its incumbent, one that ends without any
solution as ``no solution``. ``--quick`` runs a small subset (under a minute).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from layerplan.build import build_model, compose, model_size
from layerplan.errors import LayerplanError, SolverError
from layerplan.latency import analytic_params
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario
from layerplan.solve import solve

THESIS_DNNS = ("alexnet", "vgg11", "ssd300", "vgg16")
RANDOM_LAYERS = (16, 32, 64, 100, 200)
RANDOM_DEVICES = (2, 4, 8, 16)
LINEARIZATIONS = ("flow", "and")
COLUMNS = [
    "group", "instance", "layers", "devices", "formulation", "linearization",
    "build_s", "solve_s", "variables", "binary", "constraints", "objective_s", "status", "gap",
]


# --------------------------------------------------------------------------- instances


def shipped_scenario(overrides: list[str]):
    """A shipped scenario, composed from ``layerplan.conf`` like ``python run.py``."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from layerplan.api import scenario_from_cfg

    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=overrides)
    return scenario_from_cfg(cfg)


def random_chain(seed: int, n_layers: int, n_devices: int):
    """A seeded random chain of ``n_layers`` layers on ``n_devices`` devices, memory off.

    The same distributions as the component tests' generator (``tests/conftest.py``):
    FLOP in [0, 5e9), weights 0 or in [1e3, 5e7), outputs up to 300 x 3000 elements;
    devices at 1e9-3e12 FLOP/s, internal 3e8-3e11 B/s, external 1e6-3e8 B/s, unlimited
    memory; a network of 1e5-1e8 B/s with 30 % of the ordered pairs overridden.
    """
    rng = np.random.default_rng(seed)
    layers = tuple(
        Layer(
            name=f"l{i}",
            kind=str(rng.choice(["conv", "linear", "relu"])),
            flop=float(rng.integers(0, 5e9)),
            weights=float(rng.choice([0, rng.integers(1e3, 5e7)])),
            out_shape=(1, int(rng.integers(1, 300)), int(rng.integers(1, 3000))),
        )
        for i in range(n_layers)
    )
    dnn = DNN(f"rand{n_layers}", "module", (16, 16, 3), layers)
    devices = [
        Device(
            name=f"D{d}",
            device_class=("edge", "hub", "cloud")[d % 3],
            flops_per_s=float(10 ** rng.uniform(9, 12.5)),
            internal_bandwidth_Bps=float(10 ** rng.uniform(8.5, 11.5)),
            external_bandwidth_Bps=float(10 ** rng.uniform(6, 8.5)),
        )
        for d in range(n_devices)
    ]
    links = {
        (f"D{a}", f"D{b}"): float(10 ** rng.uniform(5, 8))
        for a in range(n_devices)
        for b in range(n_devices)
        if a != b and rng.random() < 0.3
    }
    net = Network(float(10 ** rng.uniform(5, 8)), links)
    return build_scenario(dnn, devices, net, name=f"random L={n_layers} D={n_devices}", source_device="D0",
                          destination_device="D0", capture_shape=(32, 32, 3), preprocess=False)


# --------------------------------------------------------------------------- one run


def run_one(group: str, instance: str, scenario, formulation: list[str], linearization: str, *,
            memory: bool, time_limit_s: float, params=None) -> dict:
    params = params if params is not None else analytic_params(scenario)
    row = {"group": group, "instance": instance, "layers": len(scenario.layers), "devices": len(scenario.devices),
           "formulation": "+".join(["base", *formulation]), "linearization": linearization}
    t0 = time.perf_counter()
    comp = compose(formulation, None, "latency", {"linearization": linearization, "memory": memory})
    built = build_model(scenario, params, comp)
    row["build_s"] = time.perf_counter() - t0
    row.update({k: model_size(built.model)[k] for k in ("variables", "binary", "constraints")})
    t0 = time.perf_counter()
    try:
        sol = solve(built.model, {"name": "highs", "time_limit_s": time_limit_s, "mip_rel_gap": 1e-9})
    except SolverError as exc:
        row.update(solve_s=time.perf_counter() - t0, objective_s=None, gap=None, status=f"no solution: {exc.one_line()}")
        return row
    hit_limit = sol.status != "optimal" and "time" in sol.termination.lower()
    row.update(
        solve_s=sol.solve_s,
        objective_s=sol.objective,
        gap=sol.gap,
        status="time limit" if hit_limit else (sol.status if sol.status == "optimal" else f"{sol.status} ({sol.termination})"),
    )
    return row


# --------------------------------------------------------------------------- output


def _fmt(col: str, v) -> str:
    if v is None:
        return "-"
    if col in ("build_s", "solve_s", "wall_s", "cpu_s", "dp_s", "ilp_s"):
        return f"{v:.2f}" if v >= 0.1 else f"{v:.4f}"
    if col == "ratio":
        return f"{v:.0f}"
    if col == "objective_s":
        return f"{v:.6g}"
    if col == "gap":
        return f"{100 * v:.2g}%" if v > 1e-9 else "0"
    return str(v)


def print_table(title: str, rows: list[dict], cols: list[str]) -> None:
    cells = [[_fmt(c, r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(cols)]
    print(f"\n## {title}\n")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    sys.stdout.flush()


def machine() -> str:
    try:
        from importlib.metadata import version

        highs = version("highspy")
    except Exception:  # pragma: no cover - depends on the installation
        highs = "not installed"
    try:
        import pyomo

        pyo_v = pyomo.version.version
    except Exception:  # pragma: no cover
        pyo_v = "?"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
            f"python {platform.python_version()}; highspy {highs}; pyomo {pyo_v}")


def write_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in COLUMNS})


# --------------------------------------------------------------------------- main


def thesis_cases(quick: bool):
    """(instance, hydra overrides) of the thesis instances."""
    dnns = ("alexnet",) if quick else THESIS_DNNS
    cases = [(f"{d} C1 1e7", [f"dnn={d}", "devices=c1", "network.bandwidth_Bps=1e7", "dnn.granularity=module"]) for d in dnns]
    cases.append(("alexnet C3 (default)", []))
    return cases


def random_cases(quick: bool):
    if quick:
        return [(16, 2), (16, 8), (64, 4), (100, 8)]
    return [(n, d) for n in RANDOM_LAYERS for d in RANDOM_DEVICES]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.benchmark", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small subset that finishes in under a minute")
    ap.add_argument("--time-limit", type=float, default=None, metavar="S",
                    help="HiGHS time limit per solve, s (default 60; 10 with --quick)")
    ap.add_argument("--csv", type=Path, default=None, metavar="PATH", help="also write every row to this CSV file")
    ap.add_argument("--seed", type=int, default=0, help="base seed of the random chains (default 0)")
    ap.add_argument("--cadi", action="store_true",
                    help="only CADI (Ch. 9): two-device vs general form, and 24 hourly re-solves rebuilt vs in place")
    ap.add_argument("--run-path", action="store_true",
                    help="run-path figures: run.py vs import pyomo, tracking on/off, API and sweep speed "
                         "(experiments/bench_runpath.py); with --reproduce, every thesis table too")
    ap.add_argument("--reproduce", action="store_true", help="with --run-path: time the full reproduce")
    ap.add_argument("--sweep", action="store_true",
                    help="only compare a bandwidth sweep that rebuilds each point with one that re-solves one model")
    ap.add_argument("--g2", action="store_true",
                    help="only the named instance G2 of issue 12 (L=200, D=16, F=8, MBS=8, DIME+FreDDI): "
                         "latency and energy, one JSON line each")
    ap.add_argument("--form", default="flow", choices=["flow", "thesis"],
                    help="with --g2: DIME link form and FreDDI link (flow+start, or the thesis' literal rows)")
    ap.add_argument("--backend", default="direct", choices=["pyomo", "direct"],
                    help="with --g2: the direct HiGHS matrix (layerplan.direct, default) or Pyomo")
    ap.add_argument("--presolve", default="auto", choices=["auto", "off", "on", "choose"],
                    help="with --g2: HiGHS presolve; auto: on for a DP-pruned model (1.6 s vs 17.5 s on G2 latency), "
                         "off otherwise (presolve dominated the unpruned bundle models)")
    ap.add_argument("--threads", type=int, default=2, help="with --g2: HiGHS threads (default 2)")
    ap.add_argument("--objectives", default="latency,energy", help="with --g2: comma-separated objectives")
    ap.add_argument("--size", default=None, metavar="L,D,F,MBS", help="with --g2: another size of the same generator")
    ap.add_argument("--fast-path", default="dp", choices=["off", "dp"],
                    help="with --g2: try the certified segment DP (layerplan.dp) first; MILP when it cannot certify")
    ap.add_argument("--lp-first", action="store_true", help="with --g2 --backend direct: LP relaxation first")
    ap.add_argument("--scale", action="store_true",
                    help="only scaling tables over L, D, F, MBS around G2 (DP + direct MILP) with fitted exponents, "
                         "and the chain DP vs the ILP on base chains")
    args = ap.parse_args(argv)
    if args.run_path:
        from layerplan.experiments.bench_runpath import main as run_path

        return run_path(args.quick, args.reproduce)
    if args.scale:
        return scale_benchmark(args)
    if args.g2:
        return g2_benchmark(args)
    if args.sweep:
        return sweep_benchmark(args.quick)
    if args.cadi:
        return cadi_benchmark(args.quick)
    limit = args.time_limit if args.time_limit is not None else (10.0 if args.quick else 60.0)

    print(machine())
    print(f"time limit per solve: {limit:g} s; mip_rel_gap 1e-9; build = compose + build_model; solve = HiGHS via layerplan.solve")
    rows: list[dict] = []

    thesis_rows = []
    for name, overrides in thesis_cases(args.quick):
        try:
            sc = shipped_scenario(overrides)
        except LayerplanError as exc:
            print(f"skipping {name}: {exc.one_line()}")
            continue
        params = analytic_params(sc)
        for form in ([], ["preload"]):
            for lin in LINEARIZATIONS:
                thesis_rows.append(run_one("thesis", name, sc, form, lin, memory=True, time_limit_s=limit, params=params))
    rows += thesis_rows
    print_table("Thesis instances (memory constraint on)", thesis_rows,
                ["instance", "layers", "devices", "formulation", "linearization", "build_s", "solve_s", "variables",
                 "binary", "constraints", "objective_s", "status", "gap"])

    rand_rows = []
    for n, d in random_cases(args.quick):
        sc = random_chain(args.seed + 1000 * n + d, n, d)
        params = analytic_params(sc)
        for lin in LINEARIZATIONS:
            r = run_one("random", f"L={n} D={d}", sc, ["preload"], lin, memory=False, time_limit_s=limit, params=params)
            rand_rows.append(r)
            print(f"  {r['instance']:>12} {lin:>4}: build {r['build_s']:.2f} s, solve {r['solve_s']:.2f} s, {r['status']}",
                  file=sys.stderr, flush=True)
    rows += rand_rows
    print_table(f"Random chains, base+preload, memory off (seed {args.seed}; model layers = L + 2)", rand_rows,
                ["instance", "layers", "linearization", "build_s", "solve_s", "variables", "binary", "constraints",
                 "objective_s", "status", "gap"])

    # Objective agreement between the two linearizations (both optimal ones must agree).
    pairs: dict[tuple, dict] = {}
    for r in rows:
        pairs.setdefault((r["group"], r["instance"], r["formulation"]), {})[r["linearization"]] = r
    mism = []
    for key, by in pairs.items():
        f, a = by.get("flow"), by.get("and")
        if f and a and f["status"] == a["status"] == "optimal":
            if abs(f["objective_s"] - a["objective_s"]) > 1e-6 * max(1.0, abs(f["objective_s"])):
                mism.append(f"{key}: flow {f['objective_s']:.9g} vs and {a['objective_s']:.9g}")
    print("\nflow and AND reach the same optimum on every pair solved to optimality by both"
          if not mism else "\nobjective mismatches between linearizations:\n  " + "\n  ".join(mism))

    if args.csv:
        write_rows(args.csv, rows)
        print(f"csv: {args.csv}")
    return 0


def g2_benchmark(args) -> int:
    """Issue 12's instance G2 (experiments/scale.py): build + solve per objective; one JSON
    line per objective at the end. Build includes compose + build_model (Pyomo) or the
    matrix build (direct); solve includes the translation to HiGHS."""
    import json

    from layerplan.experiments.scale import G2, g2_instance

    size = dict(G2)
    if args.size:
        size.update(zip(("layers", "devices", "freqs", "mbs"), (int(v) for v in args.size.split(","))))
    print(machine(), file=sys.stderr)
    t0 = time.perf_counter()
    sc, params, mbs = g2_instance(size["layers"], size["devices"], size["freqs"], size["mbs"], size["seed"])
    profiles_s = time.perf_counter() - t0
    print(f"G2 {size}: scenario + profiles + bundle_latency {profiles_s:.2f} s", file=sys.stderr, flush=True)
    thesis = args.form == "thesis"
    formulation = {"dime": {"mbs": mbs, "form": "thesis" if thesis else "flow"},
                   "freddi": {"link": "thesis" if thesis else "start"}}
    solver = {"name": "highs", "mip_rel_gap": 1e-6, "threads": args.threads,
              "time_limit_s": args.time_limit if args.time_limit is not None else 600.0}
    if args.presolve not in ("choose", "auto"):
        solver["options"] = {"presolve": args.presolve}
    if args.lp_first:
        solver["lp_first"] = True
    lines = []
    for objective in args.objectives.split(","):
        rec = {"objective": objective, "backend": args.backend, "form": args.form, "presolve": args.presolve}
        t0, c0 = time.perf_counter(), time.process_time()
        prune = {}
        if args.fast_path == "dp":
            from layerplan.dp import certify, segment_dp

            plan = segment_dp(params, mbs, objective)
            why = certify(params, plan, memory=False, mbs=mbs, ceiling=True, one_frequency=True)
            rec["dp_s"] = time.perf_counter() - t0
            if why is None:
                rec.update(status="optimal", mip_gap=0.0, dual_bound=plan.latency_s, objective_value=plan.latency_s,
                           build_s=0.0, solve_s=rec["dp_s"], method="dp", variables=None, constraints=None,
                           cpu_s=time.process_time() - c0)
                rec["total_s"] = rec["dp_s"]
                print(f"  {objective}: DP certified optimal in {rec['dp_s']:.2f} s", file=sys.stderr, flush=True)
                lines.append(rec)
                continue
            print(f"  {objective}: DP bound {plan.latency_s:.9g} not certified ({why}); MILP", file=sys.stderr, flush=True)
            rec["dp_bound"] = plan.latency_s
            if args.backend == "direct":
                from layerplan.dp import feasible_plan, prune_masks

                upper, rounds = feasible_plan(params, mbs, objective, first=plan)
                if upper is not None:
                    keep, drop_z = prune_masks(params, mbs, objective, upper.latency_s)
                    prune = {"keep_bundles": keep, "drop_z": drop_z}
                    rec.update(dp_upper=upper.latency_s, dp_rounds=rounds, kept_bundles=len(keep), dropped_z=len(drop_z))
                    print(f"  {objective}: repaired DP plan {upper.latency_s:.9g} ({rounds} rounds); pruning keeps "
                          f"{len(keep)} bundles, drops {len(drop_z)} device changes", file=sys.stderr, flush=True)
            rec["dp_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
        if args.presolve == "auto":
            pruned = args.fast_path == "dp" and bool(prune) and args.backend == "direct"
            solver["options"] = {"presolve": "on" if pruned else "off"}
            rec["presolve"] = solver["options"]["presolve"]
        if args.backend == "direct":
            from layerplan.direct import build_direct

            model = build_direct(sc, params, formulation, objective, {"memory": False},
                                 **(prune if args.fast_path == "dp" else {}))
            rec["build_s"] = time.perf_counter() - t0
            rec.update(variables=model.n_cols, constraints=model.n_rows)
            sol = model.solve(solver)
        else:
            comp = compose(formulation, None, objective, {"memory": False})
            built = build_model(sc, params, comp)
            rec["build_s"] = time.perf_counter() - t0
            size_ = model_size(built.model)
            rec.update(variables=size_["variables"], constraints=size_["constraints"])
            try:
                sol = solve(built.model, solver)
            except SolverError as exc:
                rec.update(status=f"no solution: {exc.one_line()}", solve_s=time.perf_counter() - t0 - rec["build_s"])
                lines.append(rec)
                continue
        rec.update(status=sol.status, mip_gap=sol.gap, dual_bound=sol.bound, objective_value=sol.objective,
                   solve_s=sol.solve_s, method=sol.extra.get("method", "milp"))
        if rec.get("kept_bundles") is not None:
            rec["method"] += " (DP-pruned)"
        rec["total_s"] = rec["build_s"] + rec["solve_s"] + rec.get("dp_s", 0.0)
        rec["cpu_s"] = time.process_time() - c0
        print(f"  {objective}: build {rec['build_s']:.2f} s, solve {rec['solve_s']:.2f} s, {rec['status']}, "
              f"gap {rec['mip_gap']}", file=sys.stderr, flush=True)
        lines.append(rec)
    for rec in lines:
        print(json.dumps({k: rec.get(k) for k in ("objective", "status", "mip_gap", "build_s", "solve_s", "variables",
                                                   "constraints", "objective_value", "dual_bound", "method", "backend",
                                                   "form", "presolve", "dp_s", "dp_bound", "dp_upper", "total_s",
                                                   "cpu_s")}))
    return 0


def _g2_point(L: int, D: int, F: int, M: int, objective: str, seed: int = 12) -> dict:
    """One G2-family point through the default --g2 path: certified DP, else repaired DP
    plan + pruning + direct MILP. Wall and CPU seconds (this process, all threads)."""
    from layerplan.direct import build_direct
    from layerplan.dp import certify, feasible_plan, prune_masks, segment_dp
    from layerplan.experiments.scale import g2_instance

    sc, params, mbs = g2_instance(L, D, F, M, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    plan = segment_dp(params, mbs, objective)
    row = {"L": L, "D": D, "F": F, "MBS": M, "objective": objective}
    if certify(params, plan, memory=False, mbs=mbs, ceiling=True, one_frequency=True) is None:
        row.update(method="dp", status="optimal", value=plan.latency_s, gap=0.0)
    else:
        upper, _ = feasible_plan(params, mbs, objective, first=plan)
        prune = {}
        if upper is not None:
            keep, drop_z = prune_masks(params, mbs, objective, upper.latency_s)
            prune = {"keep_bundles": keep, "drop_z": drop_z}
        form = {"dime": {"mbs": mbs}, "freddi": {}}
        sol = build_direct(sc, params, form, objective, {"memory": False}, **prune).solve(
            {"mip_rel_gap": 1e-6, "threads": 2, "options": {"presolve": "on" if prune else "off"}, "time_limit_s": 600})
        row.update(method="milp (DP-pruned)", status=sol.status, value=sol.objective, gap=sol.gap)
    row.update(wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0)
    return row


def _exponent(xs, ys) -> float | None:
    xs, ys = np.log(np.asarray(xs, float)), np.log(np.maximum(np.asarray(ys, float), 1e-6))
    return float(np.polyfit(xs, ys, 1)[0]) if len(xs) >= 2 else None


def scale_benchmark(args) -> int:
    """Scaling tables around G2 (one parameter varied, the others at G2's value) and the
    exact chain DP vs the ILP (base + preload, memory off) on random chains."""
    from layerplan.dp import base_dp

    print(machine())
    print("G2 family: DP certificate or repaired-DP pruning + direct HiGHS (2 threads, presolve on when pruned); "
          "seconds exclude the instance generation; cpu_s counts every thread of this process")
    sweeps = {"L": [25, 50, 100, 200], "D": [2, 4, 8, 16], "F": [1, 2, 4, 8], "MBS": [2, 4, 8]}
    if args.quick:
        sweeps = {"L": [25, 50, 100], "D": [2, 4, 8], "F": [1, 2, 4], "MBS": [2, 4]}
    g2 = {"L": 200, "D": 16, "F": 8, "MBS": 8}
    if args.quick:
        g2 = {"L": 50, "D": 8, "F": 4, "MBS": 4}
    for key, values in sweeps.items():
        rows = []
        for v in values:
            for objective in ("latency", "energy"):
                point = {**g2, key: v}
                rows.append(_g2_point(point["L"], point["D"], point["F"], point["MBS"], objective))
                print(f"  {key}={v} {objective}: {rows[-1]['method']} {rows[-1]['wall_s']:.2f} s", file=sys.stderr,
                      flush=True)
        print_table(f"varying {key} (others as {g2})", rows,
                    ["L", "D", "F", "MBS", "objective", "method", "status", "wall_s", "cpu_s"])
        for objective in ("latency", "energy"):
            sub = [r for r in rows if r["objective"] == objective]
            e_w = _exponent([r[key] for r in sub], [r["wall_s"] for r in sub])
            e_c = _exponent([r[key] for r in sub], [r["cpu_s"] for r in sub])
            print(f"fitted exponent of {objective} seconds in {key}: wall {e_w:.2f}, cpu {e_c:.2f}")
    rows = []
    for n in ((16, 64, 200) if not args.quick else (16, 64)):
        for d in ((2, 4, 8, 16) if not args.quick else (2, 8)):
            sc = random_chain(args.seed + 1000 * n + d, n, d)
            params = analytic_params(sc)
            t0 = time.perf_counter()
            plan = base_dp(params, preload=True)
            dp_s = time.perf_counter() - t0
            r = run_one("random", f"L={n} D={d}", sc, ["preload"], "flow", memory=False, time_limit_s=600.0,
                        params=params)
            ilp_s = r["build_s"] + r["solve_s"]
            same = r["objective_s"] is not None and abs(r["objective_s"] - plan.latency_s) <= 1e-6 * plan.latency_s
            rows.append({"instance": r["instance"], "dp_s": dp_s, "ilp_s": ilp_s, "ratio": ilp_s / dp_s, "same": same})
    print_table("Latency-only chains (base + preload, memory off): exact DP vs ILP (build + solve)", rows,
                ["instance", "dp_s", "ilp_s", "ratio", "same"])
    print(f"median ILP/DP ratio: {float(np.median([r['ratio'] for r in rows])):.0f}")
    return 0


def sweep_benchmark(quick: bool) -> int:
    """Seconds for a bandwidth sweep: rebuild + solve each point vs update 1/BW and re-solve."""
    import dataclasses

    from layerplan.api import solve_scenario
    from layerplan.sweep import sweep_bandwidth

    print(machine())
    bws = [float(b) for b in np.logspace(4, 7, 7 if quick else 31)]
    rows = []
    cases = [("VGG16 C3", ["dnn=vgg16", "devices=c3"]), ("AlexNet C3", ["dnn=alexnet", "devices=c3"])]
    chains = [(64, 8)] if quick else [(64, 8), (100, 8), (200, 4)]
    for name, sc in [(n, shipped_scenario(o)) for n, o in cases] + [
            (f"random L={n} D={d}", random_chain(n * 100 + d, n, d)) for n, d in chains]:
        t0 = time.perf_counter()
        fresh = [solve_scenario(dataclasses.replace(sc, network=dataclasses.replace(sc.network, bandwidth_Bps=b)),
                                formulation=["preload"], solver={"backend": "pyomo"}) for b in bws]
        t_fresh = time.perf_counter() - t0
        t0 = time.perf_counter()
        reused = sweep_bandwidth(sc, bws, formulation=["preload"], solver={"backend": "pyomo"})
        t_reuse = time.perf_counter() - t0
        same = all(abs(a["objective"] - b["objective"]) <= 1e-6 * max(1.0, abs(a["objective"]))
                   for a, b in zip(fresh, reused))
        rows.append({"instance": name, "points": len(bws), "rebuild_s": round(t_fresh, 2), "reuse_s": round(t_reuse, 2),
                     "speedup": round(t_fresh / t_reuse, 2) if t_reuse else None, "same_optima": same})
    print_table("Bandwidth sweep with preload: rebuild every point vs re-solve one model (1/BW mutable)", rows,
                ["instance", "points", "rebuild_s", "reuse_s", "speedup", "same_optima"])
    return 0


def cadi_benchmark(quick: bool) -> int:
    """CADI on the shipped Nano pair over 4G (2022 yearly-mean intensities): build and solve
    seconds of the two-device form (linear) and the general form (Dinkelbach steps), with and
    without single-device plans; then 24 hourly re-solves with other intensities, rebuilding
    the model every hour vs setting C_d in place (cadi.carbon_intensity is mutable)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from layerplan.api import solve_built
    from layerplan.build import build_model, compose
    from layerplan.api import carbon_from_cfg, formulation_from_cfg, profiles_from_cfg, scenario_from_cfg
    from layerplan.profiles import bundle_latency
    from layerplan.results import collect

    print(machine())
    rows, hourly = [], []
    for dnn in (["alexnet"] if quick else ["alexnet", "vgg11", "vit_b_16"]):
        with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=["+method=cadi", f"dnn={dnn}"])
        sc = scenario_from_cfg(cfg)
        ps, pm = profiles_from_cfg(cfg, sc)
        form_cfg, _ = carbon_from_cfg(cfg, sc, formulation_from_cfg(cfg))

        def built_for(form, single, C=None):
            cadi = {**form_cfg["cadi"], "form": form, "single_device": single}
            if C:
                cadi["carbon_intensity_mg_per_J"] = C
            t0 = time.perf_counter()
            params = analytic_params(sc)
            params.bundles = bundle_latency(params, ps, pm.get("map") or {}, {d.name: d.spec for d in sc.devices if d.spec})
            comp = compose({**form_cfg, "cadi": cadi}, None, {"name": "carbon", "max_latency_s": 3.0 if dnn == "vit_b_16" else 1.0})
            b = build_model(sc, params, comp)
            return b, time.perf_counter() - t0

        objs = {}
        for single in (True, False):
            for form in ("two_device", "general"):
                b, build_s = built_for(form, single)
                sol = solve_built(b)
                rec = collect(b, sol)
                objs[(single, form)] = sol.objective
                rows.append({"dnn": dnn, "single_device": single, "form": form, "build_s": round(build_s, 3),
                             "solve_s": round(sol.solve_s, 3), "steps": sol.extra.get("dinkelbach_steps", 1),
                             "variables": rec["model_size"]["variables"], "binary": rec["model_size"]["binary"],
                             "CF_mg": round(sol.objective, 3), "L_trans": rec["cadi"]["transition_layer"] or "none"})
            rows[-1]["same_as_two_device"] = abs(objs[(single, "general")] - objs[(single, "two_device")]) <= \
                1e-6 * abs(objs[(single, "two_device")])
        # 24 hours of made-up but plausible intensities (g/kWh): a cleaner partner at midday
        hours = [(500 + 30 * np.sin(h / 24 * 2 * np.pi), 250 - 120 * max(0.0, np.sin((h - 14) / 24 * 2 * np.pi * 2)))
                 for h in range(24)]
        Cs = [{"src": a / 3600, "partner": c / 3600} for a, c in hours]
        for form in ("two_device", "general"):
            t0 = time.perf_counter()
            fresh = []
            for C in Cs:
                b, _ = built_for(form, False, C)
                fresh.append(solve_built(b).objective)
            t_fresh = time.perf_counter() - t0
            t0 = time.perf_counter()
            b, _ = built_for(form, False, Cs[0])
            cadi_blk = b.model.cadi
            reused = []
            for C in Cs:
                cadi_blk.set_carbon_intensity(C)
                reused.append(solve_built(b).objective)
            t_reuse = time.perf_counter() - t0
            hourly.append({"dnn": dnn, "form": form, "hours": len(Cs), "rebuild_s": round(t_fresh, 2),
                           "in_place_s": round(t_reuse, 2), "speedup": round(t_fresh / t_reuse, 2),
                           "same_optima": all(abs(x - y) <= 1e-6 * abs(x) for x, y in zip(fresh, reused))})
    print_table("CADI, min CF (Nano pair, 4G, MISO -> CAISO yearly means): two-device vs general form", rows,
                ["dnn", "single_device", "form", "build_s", "solve_s", "steps", "variables", "binary", "CF_mg", "L_trans",
                 "same_as_two_device"])
    print_table("24 hourly re-solves (split range l = 1..L-1): rebuild every hour vs set C_d in place", hourly,
                ["dnn", "form", "hours", "rebuild_s", "in_place_s", "speedup", "same_optima"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
