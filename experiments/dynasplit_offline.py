"""DynaSplit offline phase (``python run.py experiment=dynasplit_offline``): exact Pareto fronts by
enumeration and by the ILP, the NSGA-III baseline with DynaSplit's budget against them (hypervolume,
front points found, what the online phase loses); ``report.md``, CSVs and a front plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from layerplan.experiments.records import markdown_table, write_csv

NAME = "dynasplit_offline"


def _front_rows(net: str, table: dict, idx, label: str) -> list[dict]:
    rows = []
    for k in idx:
        c = table["configs"][k]
        rows.append({"network": net, "front": label, "config": c.label(), "freq_MHz": c.freq_MHz, "layer": c.layer,
                     "tpu": c.tpu, "gpu": c.gpu, "latency_ms": float(table["latency_ms"][k]),
                     "energy_J": float(table["energy_J"][k]),
                     "accuracy": None if table.get("accuracy") is None else float(table["accuracy"][k]),
                     "rows": int(table["rows"][k])})
    return sorted(rows, key=lambda r: r["latency_ms"])


def _plot(out_dir: Path, results: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 5), squeeze=False)
    for j, (net, r) in enumerate(results.items()):
        t = r["table"]
        ax = axes[0, j]
        ax.scatter(t["latency_ms"], t["energy_J"], s=6, c="0.75", label=f"measured configurations ({len(t['configs'])})")
        f = r["front_2d"]
        o = np.argsort(t["latency_ms"][f])
        ax.step(t["latency_ms"][f][o], t["energy_J"][f][o], where="post", c="k", label=f"exact front, 2-D ({len(f)})")
        if r["accuracy"]:
            f3 = r["front_3d"]
            ax.scatter(t["latency_ms"][f3], t["energy_J"][f3], s=30, facecolors="none", edgecolors="tab:blue",
                       label=f"exact front, 3-D ({len(f3)})")
        if r["nsga3"]:
            fr = r["nsga3"][0]["front"]
            ax.scatter(t["latency_ms"][fr], t["energy_J"][fr], marker="x", c="tab:red", s=30,
                       label=f"NSGA-III front, seed {r['nsga3'][0]['seed']} ({len(fr)})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("energy per inference (J)")
        ax.set_title(net)
        ax.legend(fontsize=8)
    fig.tight_layout()
    p = out_dir / "fronts.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p.name


def build(results: dict, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    fronts, nsga_rows, seg_rows, summary = [], [], [], []
    for net, r in results.items():
        t = r["table"]
        fronts += _front_rows(net, t, r["front_2d"], "exact_2d")
        if r["accuracy"]:
            fronts += _front_rows(net, t, r["front_3d"], "exact_3d")
        for run in r["nsga3"]:
            fronts += _front_rows(net, t, run["front"], f"nsga3_seed{run['seed']}")
            nsga_rows.append({"network": net, **{k: v for k, v in run.items() if k not in ("front", "online")},
                              "online_mean_energy_J": run["online"]["mean_energy_J"],
                              "online_qos_violation_pct": run["online"]["qos_violation_pct"],
                              "online_energy_loss_pct": 100 * (run["online"]["mean_energy_J"] / r["online_exact"]["mean_energy_J"] - 1),
                              "online_violation_points_lost": run["online"]["qos_violation_pct"] - r["online_exact"]["qos_violation_pct"]})
        for label, s in r["segment"].items():
            seg_rows.append({"network": net, "objectives": label, "enumeration_points": len(s["enumeration"]),
                             "ilp_points": len(s["ilp"]), "agree": s["agree"], "t_enum_s": s["t_enum_s"], "t_ilp_s": s["t_ilp_s"]})
        hv = [x["hv_ratio"] for x in r["nsga3"]]
        summary.append({"network": net, "space": r["space"], "measured": r["measured"], "absent": r["absent"],
                        "segment_model_configs": r["segment_configs"],
                        "exact_front": len(r["front_3d"] if r["accuracy"] else r["front_2d"]),
                        "nsga3_budget": r["nsga3_budget"],
                        "nsga3_hv_ratio_mean": float(np.mean(hv)) if hv else None,
                        "nsga3_hv_ratio_min": float(np.min(hv)) if hv else None,
                        "nsga3_exact_points_found_mean": float(np.mean([x["exact_points_found"] for x in r["nsga3"]])) if hv else None,
                        "online_exact_mean_energy_J": r["online_exact"]["mean_energy_J"],
                        "online_exact_violation_pct": r["online_exact"]["qos_violation_pct"]})
    write_csv(out_dir / "fronts.csv", fronts)
    write_csv(out_dir / "nsga3.csv", nsga_rows)
    write_csv(out_dir / "segment_model.csv", seg_rows)
    write_csv(out_dir / "offline_summary.csv", summary)
    L = ["# DynaSplit offline phase: exact Pareto fronts vs NSGA-III", "",
         "Exact fronts are computed over the configurations measured in the pool (the ones the online phase can "
         "replay; absent configurations are excluded), by enumeration. Objectives: latency (ms), energy (J) and, for "
         "VGG16, accuracy (maximized; the `3d` front, which DynaSplit uses). Hypervolume is exact (slicing), with "
         "the reference point 1 % beyond the worst measured value of each objective. NSGA-III: Optuna's "
         "NSGAIIISampler (population 50), budget ceil(0.2 x space) measured trials, DynaSplit's pruning rules; "
         "samples of absent configurations are told FAIL and not counted (they could not have been measured here).", ""]
    L += markdown_table(summary, list(summary[0]))
    L += ["", "## NSGA-III runs (per seed) and what the online phase loses with their fronts", "",
          "`online_*`: the `dynasplit` rule on the published 10,000-request trace with each front (simulator with "
          "reconfiguration, seed 0), against the same rule on the exact front.", ""]
    if nsga_rows:
        L += markdown_table(nsga_rows, ["network", "seed", "trials", "failed", "distinct", "front_points", "exact_points",
                                        "exact_points_found", "hv_ratio", "online_mean_energy_J", "online_energy_loss_pct",
                                        "online_qos_violation_pct", "online_violation_points_lost", "time_s"])
    else:
        L += ["Optuna is not installed (`pip install 'layerplan[dynasplit]'`): no NSGA-III runs."]
    L += ["", "## The ILP with epsilon-constraints on the separable segment model", "",
          "The segment model (edge segment up to the split per edge mode, transfer, cloud segment per GPU mode: "
          "`layerplan.dynasplit.loader.segment_chain`) is the general N-device, many-mode formulation "
          "(`layerplan.dynasplit.modes`). Its exact front by the ILP (lexicographic epsilon-constraints, HiGHS, zero "
          "gap) and by enumeration of every plan:", ""]
    L += markdown_table(seg_rows, list(seg_rows[0]) if seg_rows else [])
    L += ["", "## Exact fronts (measured configurations)", ""]
    L += markdown_table([f for f in fronts if f["front"].startswith("exact")],
                        ["network", "front", "config", "latency_ms", "energy_J", "accuracy", "rows"])
    L += ["", f"![fronts]({_plot(out_dir, results)})", ""]
    (out_dir / "report.md").write_text("\n".join(L))
    return {"out_dir": str(out_dir), "summary": summary, "nsga3": nsga_rows, "segment": seg_rows}
