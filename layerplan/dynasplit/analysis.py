"""Offline and simulation studies on the DynaSplit data (what ``experiment=dynasplit_offline|dynasplit_sim``
run; the experiments/ modules write the reports)."""

from __future__ import annotations

import time
import warnings

import numpy as np

from layerplan.dynasplit import data as D
from layerplan.dynasplit.loader import measured_table, segment_chain, chain_configs
from layerplan.dynasplit.modes import enumeration_front, ilp_front, objectives
from layerplan.dynasplit.online import STRATEGIES, choose_all, simulate
from layerplan.dynasplit.pareto import front_vectors, hypervolume, nondominated_mask

SUMMARY_COLUMNS = ("network", "workload", "strategy", "requests", "mean_energy_J", "median_energy_J", "mean_latency_ms",
                   "qos_violation_pct", "energy_vs_cloud_pct")


def table_objectives(table: dict, accuracy: bool) -> np.ndarray:
    F = np.c_[table["latency_ms"], table["energy_J"]]
    if accuracy and table.get("accuracy") is not None:
        F = np.c_[F, -table["accuracy"]]
    return F


def measured_front(table: dict, accuracy: bool | None = None) -> np.ndarray:
    """Indices (into ``table``) of the exact Pareto front of the measured configurations, by enumeration;
    with accuracy (VGG16, default when the pool has it) over (latency, energy, -accuracy)."""
    use = table.get("accuracy") is not None if accuracy is None else accuracy
    return np.flatnonzero(nondominated_mask(table_objectives(table, use)))


def workloads(network: str, directory, spec: list) -> dict[str, np.ndarray]:
    """Workloads by name: ``published_<n>`` (the QoS traces) or ``weibull_<n>_seed<s>`` (the generator)."""
    out = {}
    for w in spec:
        w = str(w)
        if w.startswith("published_"):
            out[w] = D.load_workload(network, int(w.split("_")[1]), directory)
        elif w.startswith("weibull_"):
            _, n, s = w.split("_")
            out[w] = D.generate_workload(int(n), network, seed=int(s.removeprefix("seed")))
        else:
            raise D.DataError(f"unknown workload {w!r} (published_<n> | weibull_<n>_seed<s>)", source="config",
                              field="dynasplit.workloads")
    return out


def run_sim(network: str, directory=None, *, workload_spec=("published_50", "published_10000"), seed: int = 0,
            strategies=STRATEGIES, reconfiguration: bool = True, nsga3_front: np.ndarray | None = None) -> dict:
    """All strategies on all workloads of one network; rows with the summary columns plus
    ``reconfigurations`` and the per-request arrays (for plots)."""
    pool = D.load_pool(network, directory)
    table = measured_table(pool)
    front = measured_front(table)
    rec = D.load_reconfiguration_ms(network, directory)
    r_plan = float(np.median(rec)) if reconfiguration else 0.0  # what the scheduler plans with
    rows, per_request = [], {}
    timing = {}
    for wname, q in workloads(network, directory, list(workload_spec)).items():
        t0 = time.perf_counter()
        extra = {"dynasplit_nsga3": nsga3_front} if nsga3_front is not None and len(nsga3_front) else None
        choices = choose_all(network, table, front, q, reconfig_plan_ms=r_plan, strategies=strategies, extra_fronts=extra)
        res = {s: simulate(pool, table["pool_index"], c, q, strategy=s, seed=seed,
                           reconfig_samples_ms=rec if reconfiguration else None) for s, c in choices.items()}
        timing[wname] = time.perf_counter() - t0
        cloud = res["cloud"].metrics()["mean_energy_J"] if "cloud" in res else None
        for s, r in res.items():
            m = r.metrics()
            rows.append({"network": network, "workload": wname, "strategy": s, **m,
                         "energy_vs_cloud_pct": None if cloud is None else 100.0 * (m["mean_energy_J"] / cloud - 1.0)})
            per_request[(wname, s)] = r
    return {"rows": rows, "per_request": per_request, "timing_s": timing, "front_size": int(len(front)),
            "configs": len(table["configs"]), "reconfig_median_ms": r_plan}


def offline(network: str, directory=None, *, nsga_seeds=(0, 1, 2, 3, 4), online_workload: str = "published_10000",
            sim_seed: int = 0) -> dict:
    """Exact fronts (measured configurations by enumeration; segment model by enumeration and by the ILP),
    the NSGA-III baseline per seed against the exact measured front (hypervolume, front points found) and
    what the online phase loses with its front (the ``dynasplit`` rule on ``online_workload``)."""
    from layerplan.dynasplit import nsga

    pool = D.load_pool(network, directory)
    table = measured_table(pool)
    acc = table.get("accuracy") is not None
    out: dict = {"network": network, "space": len(D.config_space(network)), "measured": len(table["configs"]),
                 "absent": len(pool.absent()), "accuracy": acc}
    # exact measured fronts
    for label, use_acc in (("2d", False), ("3d", True)) if acc else (("2d", False),):
        f = measured_front(table, use_acc)
        out[f"front_{label}"] = f
    F_all = table_objectives(table, acc)
    ref = F_all.max(axis=0) * np.where(F_all.max(axis=0) >= 0, 1.01, 0.99)
    exact = out["front_3d" if acc else "front_2d"]
    out["hv_exact"] = hypervolume(F_all[exact], ref)
    out["ref"] = ref
    # segment model: enumeration vs ILP
    chain = segment_chain(pool)
    out["segment_configs"] = len(chain_configs(chain, network))
    seg = {}
    for label, use_acc in (("2d", False), ("3d", True)) if acc else (("2d", False),):
        t0 = time.perf_counter()
        ef = enumeration_front(chain, accuracy=use_acc)
        t1 = time.perf_counter()
        lf = ilp_front(chain, accuracy=use_acc)
        t2 = time.perf_counter()
        A, B = front_vectors(objectives(ef, use_acc), 6), front_vectors(objectives(lf, use_acc), 6)
        seg[label] = {"enumeration": ef, "ilp": lf, "agree": bool(A.shape == B.shape and np.allclose(A, B, rtol=1e-9, atol=1e-6)),
                      "t_enum_s": t1 - t0, "t_ilp_s": t2 - t1}
    out["segment"] = seg
    # online loss helper
    q = workloads(network, directory, [online_workload])[online_workload]
    rec = D.load_reconfiguration_ms(network, directory)

    def online(front_idx, name):
        ch = choose_all(network, table, front_idx, q, reconfig_plan_ms=float(np.median(rec)), strategies=("dynasplit",))
        r = simulate(pool, table["pool_index"], ch["dynasplit"], q, strategy=name, seed=sim_seed, reconfig_samples_ms=rec)
        return r.metrics()

    out["online_exact"] = online(exact, "dynasplit")
    runs = []
    if nsga.available():
        exact_vecs = {tuple(np.round(v, 9)) for v in F_all[exact]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in nsga_seeds:
                t0 = time.perf_counter()
                r = nsga.nsga3_search(network, table, seed=int(s))
                dt = time.perf_counter() - t0
                fr = r["front"]
                found = sum(tuple(np.round(v, 9)) in exact_vecs for v in F_all[fr])
                runs.append({"seed": int(s), "trials": r["trials"], "failed": r["failed"], "distinct": r["distinct"],
                             "front_points": int(len(fr)), "exact_points_found": int(found),
                             "exact_points": int(len(exact)), "hv": hypervolume(F_all[fr], ref),
                             "hv_ratio": hypervolume(F_all[fr], ref) / out["hv_exact"], "time_s": dt,
                             "online": online(fr, "dynasplit_nsga3"), "front": fr})
    out["nsga3"] = runs
    out["nsga3_budget"] = nsga.budget(network)
    out["table"] = table
    return out
