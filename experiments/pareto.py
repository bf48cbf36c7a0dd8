"""Exact Pareto front of (global latency, edge energy) plans of FreDDI (Ch. 8).

    python -m layerplan.experiments.pareto [hydra overrides ...] --out DIR
    python -m layerplan.experiments.pareto devices=edge_cloud dnn.granularity=major profiles=dvfs \\
        +profiles.map.edge=jetson_nano network=wifi +method=freddi --out pareto_alexnet

Epsilon-constraint sweep, lexicographic at every step:

1. minimize edge energy E subject to T <= cap (no cap at first)  -> E*;
2. minimize global latency T subject to E <= E* (1 + tol)          -> one Pareto point (T*, E*);
3. cap = T* - delta (delta = max(delta_rel * T*, delta_abs), defaults 1e-9 and 1e-7 s; HiGHS runs
   with feasibility tolerance 1e-9 and zero MIP gap); repeat until infeasible. Should the
   solver's tolerance let the previous plan through again, delta grows tenfold (at most to
   1e-3 T*), so two plans closer than delta in latency count as one.

Every point is non-dominated and every non-dominated (T, E) pair is found (for ties in both
values, one plan is kept). The model is built once; only the two caps change. The
config is composed with Hydra's compose API from ``layerplan.conf`` exactly as ``run.py``
composes it; the formulation must contain ``freddi`` (default when none is given:
``dime`` + ``freddi``); an objective of the config is replaced by ``energy``, except
``privacy``, whose first-K constraint is kept (Fig. 8.5 style fronts per K). Writes
``pareto.csv``, ``pareto.json`` and ``pareto.png`` in ``--out``. A bad input prints one
``layerplan: error: ...`` line and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ENERGY_TOL_REL = 1e-9
#: give up widening a repeated step beyond this fraction of the latency
MAX_DELTA_REL = 1e-3


def compose_cfg(overrides: list[str]):
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _objective_spec(cfg) -> dict:
    from layerplan.api import to_dict

    obj = to_dict(cfg.get("objective")) if cfg.get("objective") is not None else {}
    if obj.get("name") == "privacy":
        return {"name": "privacy", "k": obj.get("k"), "device": obj.get("device")}
    return {"name": "energy"}


def build_from_cfg(cfg):
    """(built model, solver options) for the config's scenario, profiles and formulation."""
    from layerplan.build import build_model, compose
    from layerplan.api import formulation_from_cfg, load_plugins, profiles_from_cfg, scenario_from_cfg, to_dict
    from layerplan.errors import ConfigError
    from layerplan.latency import analytic_params
    from layerplan.profiles import bundle_latency

    load_plugins(to_dict(cfg).get("plugins"))
    scenario = scenario_from_cfg(cfg)
    profiles, prof_cfg = profiles_from_cfg(cfg, scenario)
    if profiles is None:
        raise ConfigError("the Pareto front needs bundle profiles with energy (e.g. profiles=dvfs)",
                          field="profiles.source")
    form = formulation_from_cfg(cfg) if cfg.get("formulation") is not None else {"dime": {}, "freddi": {}}
    if "freddi" not in form:
        raise ConfigError("the Pareto front needs the freddi formulation (e.g. +method=freddi)", field="formulation")
    comp = compose(form, to_dict(cfg.get("constraints")), _objective_spec(cfg), to_dict(cfg.get("model")))
    params = analytic_params(scenario)
    params.bundles = bundle_latency(params, profiles, prof_cfg.get("map") or {},
                                    {d.name: d.spec for d in scenario.devices if d.spec}, prof_cfg.get("frequency") or {})
    solver = to_dict(cfg.solver)
    solver["mip_rel_gap"] = 0.0
    solver["mip_abs_gap"] = 0.0
    if solver.get("name", "highs") == "highs":  # tighter than HiGHS' defaults (1e-7, 1e-6)
        solver["options"] = {"primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9,
                             **(solver.get("options") or {})}
    return build_model(scenario, params, comp), solver


def pareto_front(scenario, profiles, *, formulation=None, constraints=None, objective=None, profile_map=None,
                 profile_frequency=None, solver=None, **kw) -> list[dict[str, Any]]:
    """Python entry point: the exact front of a scenario with a ProfileSet (as solve_scenario)."""
    from layerplan.build import build_model, compose
    from layerplan.latency import analytic_params
    from layerplan.profiles import bundle_latency

    comp = compose(formulation or {"dime": {}, "freddi": {}}, constraints, objective or {"name": "energy"})
    params = analytic_params(scenario)
    params.bundles = bundle_latency(params, profiles, profile_map, {d.name: d.spec for d in scenario.devices if d.spec},
                                    profile_frequency)
    opts = {"name": "highs", "mip_rel_gap": 0.0, "mip_abs_gap": 0.0,
            "options": {"primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9}}
    opts.update(solver or {})
    return pareto_points(build_model(scenario, params, comp), opts, **kw)


def pareto_points(built, solver: dict, *, delta_rel: float = 1e-9, delta_abs: float = 1e-7,
                  max_points: int = 10_000) -> list[dict[str, Any]]:
    """The exact front (latency ascending... built descending in latency, returned sorted by latency)."""
    import pyomo.core as pyo

    from layerplan.errors import SolverError
    from layerplan.results import collect
    from layerplan.solve import solve as _solve

    def solve(model, opts):
        """Solve; an 'infeasible' answer is confirmed with presolve off (HiGHS 1.15's presolve
        has been seen to declare these lexicographic steps infeasible wrongly)."""
        try:
            return _solve(model, opts)
        except SolverError as exc:
            if "infeasible" not in str(exc) or opts.get("name", "highs") != "highs":
                raise
            return _solve(model, {**opts, "options": {**(opts.get("options") or {}), "presolve": "off"}})

    m = built.model
    obj_blk = next(b for b in m.component_objects(pyo.Block, descend_into=False)
                   if b.local_name.startswith("objective_"))
    energy = obj_blk.total_energy_J
    latency = built.ctx.terms.total("latency.")
    m.pareto_T_cap = pyo.Param(mutable=True, initialize=1e12)
    m.pareto_E_cap = pyo.Param(mutable=True, initialize=1e12)
    m.pareto_T_Constraint = pyo.Constraint(expr=latency <= m.pareto_T_cap)
    m.pareto_E_Constraint = pyo.Constraint(expr=energy <= m.pareto_E_cap)
    m.pareto_min_T = pyo.Objective(expr=latency, sense=pyo.minimize)
    m.pareto_T_Constraint.deactivate()  # activated from the second point on (no huge caps: numerics)
    m.pareto_E_Constraint.deactivate()
    m.pareto_min_T.deactivate()
    points: list[dict] = []
    while len(points) < max_points:
        obj_blk.Objective.activate()
        m.pareto_min_T.deactivate()
        m.pareto_E_Constraint.deactivate()
        try:
            e_star = solve(m, solver).objective
        except SolverError as exc:
            if "infeasible" in str(exc):
                break
            raise
        m.pareto_E_cap = e_star + ENERGY_TOL_REL * max(abs(e_star), 1e-12)
        m.pareto_E_Constraint.activate()
        obj_blk.Objective.deactivate()
        m.pareto_min_T.activate()
        try:
            sol = solve(m, solver)
        except SolverError as exc:
            if "infeasible" not in str(exc) or not points:
                raise
            sol = None
        t_star = None if sol is None else float(pyo.value(latency))
        if points and (t_star is None or t_star >= points[-1]["latency_s"] - 0.5 * points[-1]["delta_s"]):
            # the solver's feasibility tolerance let the previous plan through: widen the step
            points[-1]["delta_s"] *= 10
            if points[-1]["delta_s"] > MAX_DELTA_REL * max(abs(points[-1]["latency_s"]), 1e-12):
                break
            m.pareto_T_cap = points[-1]["latency_s"] - points[-1]["delta_s"]
            continue
        point = _point(collect(built, sol), t_star, float(pyo.value(energy)))
        point["delta_s"] = max(delta_rel * abs(t_star), delta_abs)
        points.append(point)
        m.pareto_T_cap = t_star - point["delta_s"]
        m.pareto_T_Constraint.activate()
    for p in points:
        p.pop("delta_s", None)
    return sorted(points, key=lambda p: p["latency_s"])


def _point(res: dict, t: float, e: float) -> dict:
    fr = (res.get("freddi") or {})
    split = "; ".join(f"{x['after_layer']}|{x['from']}->{x['to']}" for x in res.get("transitions") or [])
    return {
        "latency_s": t,
        "energy_J": e,
        "frequency": {d: _mhz(v) for d, v in (fr.get("frequency") or {}).items() if v != "nominal"},
        "energy_by_device_J": {d: v["total"] for d, v in (fr.get("energy_J") or {}).items()},
        "split": split or "none (one device)",
        "transitions": res.get("transitions") or [],
        "layers_by_device": _layers(res),
    }


def _mhz(label: str):
    try:
        return round(float(label) / 1e6, 1)
    except (TypeError, ValueError):
        return label


def _layers(res: dict) -> dict:
    out: dict[str, list[str]] = {}
    for a in res.get("assignment") or []:
        if a["layer"] not in ("source", "destination", "preprocess"):
            out.setdefault(a["device"], []).append(a["layer"])
    return out


def write_outputs(points: list[dict], out: Path, title: str) -> dict[str, Path]:
    from layerplan.experiments.records import write_csv

    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, p in enumerate(points):
        rows.append({"point": k, "latency_s": p["latency_s"], "energy_J": p["energy_J"],
                     "frequency_MHz": " ".join(f"{d}={v}" for d, v in p["frequency"].items()) or "n/a (edge idle)",
                     "split": p["split"],
                     "layers_by_device": " ".join(f"{d}:{'+'.join(ls)}" for d, ls in p["layers_by_device"].items())})
    write_csv(out / "pareto.csv", rows)
    (out / "pareto.json").write_text(json.dumps({"title": title, "points": points}, indent=2))
    png = out / "pareto.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if points:
        xs = [p["latency_s"] * 1e3 for p in points]
        ys = [p["energy_J"] * 1e3 for p in points]
        ax.step(xs, ys, where="post", color="0.7", lw=1)
        ax.plot(xs, ys, "o", color="tab:blue")
        for p, x, y in zip(points, xs, ys):
            f = ",".join(str(v) for v in p["frequency"].values()) or "N/A"
            ax.annotate(f"{f}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("global latency (ms)")
    ax.set_ylabel("edge energy (mJ)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return {"csv": out / "pareto.csv", "json": out / "pareto.json", "png": png}


def throughput_front(scenario, *, formulation=None, constraints=None, objective=None, model=None, solver=None,
                     max_points: int = 10_000) -> dict[str, Any]:
    """The exact (cycle, weighted energy) front of ``objective=throughput`` by epsilon
    constraints, and DONNA's scalarized points (docs/throughput.md): the objective's
    ``front: both`` solve hook. Returns its report entry (``front``, ``scalarized``,
    ``single_device``, ...)."""
    from layerplan.api import solve_scenario

    obj = {"name": "throughput", **(objective or {}), "front_max_points": max_points}
    if obj.get("front", "none") == "none":
        obj["front"] = "both"
    opts = {"name": "highs", "mip_rel_gap": 0.0, "mip_abs_gap": 0.0,
            "options": {"primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9}}
    opts.update(solver or {})
    res = solve_scenario(scenario, formulation=formulation or {"preload": {}}, constraints=constraints, objective=obj,
                         model=model, solver=opts)
    return res["throughput"]


def throughput_main(cfg, out: Path, max_points: int) -> int:
    """``objective=throughput``: write throughput_front.csv/json/png (analytic latency model)."""
    from layerplan.cli import formulation_from_cfg, scenario_from_cfg, to_dict
    from layerplan.experiments.records import write_csv

    obj = to_dict(cfg.objective)
    obj.pop("name", None)
    tp = throughput_front(scenario_from_cfg(cfg), formulation=formulation_from_cfg(cfg),
                          constraints=to_dict(cfg.get("constraints")), objective=obj, model=to_dict(cfg.get("model")),
                          solver=to_dict(cfg.solver), max_points=max_points)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"kind": "front", "a": None, "cycle_s": p["cycle_s"], "throughput_per_s": p["throughput_per_s"],
             "energy_J": p["energy_J"], "bottleneck": p["bottleneck"]} for p in tp["front"]]
    rows += [{"kind": "scalarized", "a": p["energy_weight"], "cycle_s": p["cycle_s"],
              "throughput_per_s": p["throughput_per_s"], "energy_J": p["energy_J"], "bottleneck": p["bottleneck"]}
             for p in tp["scalarized"]]
    write_csv(out / "throughput_front.csv", rows)
    (out / "throughput_front.json").write_text(json.dumps(tp, indent=2, default=float))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot([p["energy_J"] for p in tp["front"]], [p["throughput_per_s"] for p in tp["front"]], "o-", label="exact front")
    ax.plot([p["energy_J"] for p in tp["scalarized"]], [p["throughput_per_s"] for p in tp["scalarized"]], "kx",
            label="scalarized (DONNA a)")
    ax.set_xlabel("weighted energy per inference (J)")
    ax.set_ylabel("throughput (1/s)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "throughput_front.png", dpi=110)
    plt.close(fig)
    for r in rows:
        print(f"{r['kind']:10s} a={r['a']!s:5s} tau {r['cycle_s'] * 1e3:9.4f} ms  E {r['energy_J']:.6g} J  {r['bottleneck']}")
    print(f"{len(tp['front'])} front points; {out / 'throughput_front.csv'}, {out / 'throughput_front.png'}")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints the usage too)
        print(f"layerplan: error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m layerplan.experiments.pareto",
                                 description="Exact (latency, edge energy) Pareto front of FreDDI plans.")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, as for run.py")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--delta-rel", type=float, default=1e-9, help="latency step, relative (default 1e-9)")
    ap.add_argument("--delta-abs", type=float, default=1e-7,
                    help="latency step floor in s (default 1e-7, above the solver's feasibility tolerance 1e-9)")
    ap.add_argument("--max-points", type=int, default=10_000)
    args = ap.parse_args(argv)
    from layerplan.errors import LayerplanError

    try:
        if args.delta_rel < 0 or args.delta_abs <= 0 or args.max_points < 1:
            raise LayerplanError("need --delta-rel >= 0, --delta-abs > 0, --max-points >= 1", source="args",
                                 field="delta")
        try:
            cfg = compose_cfg(args.overrides)
        except LayerplanError:
            raise
        except Exception as exc:  # Hydra/OmegaConf composition errors
            raise LayerplanError(f"bad override ({type(exc).__name__}: {str(exc).splitlines()[0]})",
                                 source="overrides", field=" ".join(args.overrides) or "-") from None
        if (cfg.get("objective") or {}).get("name") == "throughput":
            return throughput_main(cfg, Path(args.out), args.max_points)
        built, solver = build_from_cfg(cfg)
        points = pareto_points(built, solver, delta_rel=args.delta_rel, delta_abs=args.delta_abs,
                               max_points=args.max_points)
        if not points:
            raise LayerplanError("no feasible plan", source="solver", field="status")
        sc = built.ctx.scenario
        title = (f"Pareto front {sc.dnn.name} on {', '.join(built.ctx.params.devices)} "
                 f"({', '.join(built.composition.formulation_names)})")
        paths = write_outputs(points, Path(args.out), title)
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return 2
    for p in points:
        f = ", ".join(f"{d} {v} MHz" for d, v in p["frequency"].items()) or "edge idle"
        print(f"T {p['latency_s'] * 1e3:9.3f} ms  E {p['energy_J'] * 1e3:9.3f} mJ  {f:24s} split {p['split']}")
    print(f"{len(points)} points; {paths['csv']}, {paths['png']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
