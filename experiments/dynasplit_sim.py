"""DynaSplit simulation (``python run.py experiment=dynasplit_sim``): both networks, the published QoS
traces (50 and 10,000 requests) and a generated one, every strategy; ``summary.csv``, ``metrics.csv``,
plots and ``report.md`` with the published testbed figures beside ours (docs/dynasplit.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from layerplan.experiments.records import markdown_table, published, write_csv

NAME = "dynasplit_sim"


def _summary(path: Path, rows: list[dict]) -> None:
    from layerplan.dynasplit.analysis import SUMMARY_COLUMNS

    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(r[k], 6) if isinstance(r[k], float) else r[k]) for k in SUMMARY_COLUMNS})


def _plots(out_dir: Path, sims: dict, workload: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    nets = list(sims)
    fig, axes = plt.subplots(3, len(nets), figsize=(6.5 * len(nets), 11), squeeze=False)
    for j, net in enumerate(nets):
        per = {s: r for (w, s), r in sims[net]["per_request"].items() if w == workload}
        names = list(per)
        axes[0, j].boxplot([per[s].energy_J for s in names], showfliers=False, showmeans=True)
        axes[0, j].set_xticks(range(1, len(names) + 1), names, rotation=30, fontsize=8)
        axes[0, j].set_ylabel("energy per request (J)")
        axes[0, j].set_title(f"{net}, {workload}: energy")
        axes[1, j].boxplot([per[s].latency_ms for s in names], showfliers=False, showmeans=True)
        axes[1, j].set_xticks(range(1, len(names) + 1), names, rotation=30, fontsize=8)
        axes[1, j].set_yscale("log")
        axes[1, j].set_ylabel("latency incl. reconfiguration (ms)")
        axes[1, j].set_title(f"{net}, {workload}: latency")
        v = [100 * np.mean(per[s].latency_ms > per[s].qos_ms) for s in names]
        axes[2, j].bar(range(len(names)), v, color="tab:red")
        axes[2, j].set_xticks(range(len(names)), names, rotation=30, fontsize=8)
        axes[2, j].set_ylabel("QoS violations (%)")
        axes[2, j].set_title(f"{net}, {workload}: violations")
    fig.tight_layout()
    p = out_dir / f"distributions_{workload}.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    files.append(p.name)
    return files


def build(sims: dict, testbed: dict, out_dir: Path, *, settings: dict) -> dict:
    """``sims[network]`` = :func:`layerplan.dynasplit.analysis.run_sim` output (with reconfiguration),
    ``settings['no_reconfig'][network]`` the same without; ``testbed[network]`` = testbed_summary rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [r for net in sims for r in sims[net]["rows"]]
    _summary(out_dir / "summary.csv", rows)
    write_csv(out_dir / "metrics.csv", rows)
    nore = [r for net in settings.get("no_reconfig", {}) for r in settings["no_reconfig"][net]["rows"]]
    if nore:
        _summary(out_dir / "summary_no_reconfiguration.csv", nore)
    tb_rows = [r for net in testbed for r in testbed[net]]
    write_csv(out_dir / "testbed_recomputed.csv", tb_rows)
    pub = {p["network"]: p for p in published(NAME)}
    L = [f"# DynaSplit simulation: every strategy on the pool ({', '.join(sims)})", ""]
    L += ["Simulator: each request chooses a configuration, draws one recorded row of exactly that configuration "
          f"(seed {settings.get('seed')}), and pays a reconfiguration time drawn from `overhead/` when its configuration "
          "differs from the previous request's (no energy is charged for it: not measured). "
          "`summary.csv` has exactly the issue's columns; `metrics.csv` adds `reconfigurations`.", ""]
    goal_lines = []
    for net in sims:
        for wname in sorted({r["workload"] for r in sims[net]["rows"]}):
            rs = [r for r in sims[net]["rows"] if r["workload"] == wname]
            L += [f"## {net}, workload {wname} ({rs[0]['requests']} requests; {sims[net]['timing_s'][wname]:.2f} s for all "
                  "strategies)", ""]
            L += markdown_table(rs, ["strategy", "mean_energy_J", "median_energy_J", "mean_latency_ms", "qos_violation_pct",
                                     "energy_vs_cloud_pct", "reconfigurations"])
            L.append("")
            by = {r["strategy"]: r for r in rs}
            if "dynasplit" in by and "layerplan" in by:
                d, o = by["dynasplit"], by["layerplan"]
                ok = o["qos_violation_pct"] <= d["qos_violation_pct"] + 1e-12 and o["mean_energy_J"] <= d["mean_energy_J"] + 1e-12
                goal_lines.append({"network": net, "workload": wname, "goal_met": ok,
                                   "violations_dynasplit_pct": d["qos_violation_pct"], "violations_ours_pct": o["qos_violation_pct"],
                                   "violation_points_saved": d["qos_violation_pct"] - o["qos_violation_pct"],
                                   "energy_dynasplit_J": d["mean_energy_J"], "energy_ours_J": o["mean_energy_J"],
                                   "energy_saved_pct": 100 * (1 - o["mean_energy_J"] / d["mean_energy_J"])})
    L += ["## Goal: `layerplan` meets at least DynaSplit's QoS rate at no more mean energy", ""]
    L += markdown_table(goal_lines, ["network", "workload", "goal_met", "violations_dynasplit_pct", "violations_ours_pct",
                                     "violation_points_saved", "energy_dynasplit_J", "energy_ours_J", "energy_saved_pct"])
    if settings.get("robustness"):
        L += ["", "Other simulator seeds (published_10000; row and reconfiguration draws change, choices do not):", ""]
        L += markdown_table(settings["robustness"], ["network", "seed", "goal_met", "violations_dynasplit_pct",
                                                     "violations_ours_pct", "energy_dynasplit_J", "energy_ours_J"])
    L += ["", "## Published reference (testbed, 50 requests, recomputed from `testbed/`)", ""]
    L += markdown_table(tb_rows, ["network", "strategy", "requests", "mean_energy_J", "median_energy_J", "mean_latency_ms",
                                  "qos_violation_pct", "energy_vs_cloud_pct"])
    L += ["", "Published headline (data README / paper) beside the recomputation and our simulation of `dynasplit` "
          "(`sim50`, `sim10k`: published_50 and published_10000 with reconfiguration; `sim50_norc`: published_50 "
          "without) and of ours (`ours10k`):", ""]
    cmp_rows = []
    for net in sims:
        p = pub.get(net, {})
        tb = {r["strategy"]: r for r in testbed.get(net, [])}
        sim = {(r["workload"], r["strategy"]): r for r in sims[net]["rows"]}
        sp = tb.get("splinter:latency", {})
        cmp_rows.append({
            "network": net, "published_energy_vs_cloud_pct": p.get("energy_vs_cloud_pct"),
            "published_violation_pct": p.get("qos_violation_pct"),
            "testbed_energy_vs_cloud_pct": sp.get("energy_vs_cloud_pct"), "testbed_violation_pct": sp.get("qos_violation_pct"),
            "sim50_energy_vs_cloud_pct": sim.get(("published_50", "dynasplit"), {}).get("energy_vs_cloud_pct"),
            "sim50_violation_pct": sim.get(("published_50", "dynasplit"), {}).get("qos_violation_pct"),
            "sim10k_energy_vs_cloud_pct": sim.get(("published_10000", "dynasplit"), {}).get("energy_vs_cloud_pct"),
            "sim10k_violation_pct": sim.get(("published_10000", "dynasplit"), {}).get("qos_violation_pct"),
            "ours10k_energy_vs_cloud_pct": sim.get(("published_10000", "layerplan"), {}).get("energy_vs_cloud_pct"),
            "ours10k_violation_pct": sim.get(("published_10000", "layerplan"), {}).get("qos_violation_pct"),
        })
        nr = {(r["workload"], r["strategy"]): r for r in settings.get("no_reconfig", {}).get(net, {}).get("rows", [])}
        if nr:
            cmp_rows[-1].update({
                "sim50_norc_energy_vs_cloud_pct": nr.get(("published_50", "dynasplit"), {}).get("energy_vs_cloud_pct"),
                "sim50_norc_violation_pct": nr.get(("published_50", "dynasplit"), {}).get("qos_violation_pct")})
    L += markdown_table(cmp_rows, list(cmp_rows[0]) if cmp_rows else [])
    if nore:
        L += ["", "## Without reconfiguration time (as the published simulation replays the pool)", ""]
        L += markdown_table(nore, ["network", "workload", "strategy", "mean_energy_J", "median_energy_J", "mean_latency_ms",
                                   "qos_violation_pct", "energy_vs_cloud_pct", "reconfigurations"])
    L += ["", "## Why our simulation differs from the testbed", "",
          "- The `dynasplit` strategy here uses the *exact* front of the measured configurations (enumeration), not the "
          "NSGA-III front of the authors' run (see `experiment=dynasplit_offline`, `dynasplit_nsga3` when Optuna is "
          "installed); for ViT the exact front contains the all-edge configuration (17 J, ~3.9 s), which the published "
          "front did not (their static `energy` point is layer 16, 81 J), so our ViT energy saving is larger.",
          "- The testbed has 50 requests per strategy; with reconfiguration time counted, a switch costs a median "
          + ", ".join(f"{n} {sims[n]['reconfig_median_ms']:.0f} ms" for n in sims) + ", which pushes requests whose QoS "
          "limit is close to a configuration's latency over the limit; the published testbed run measured inference "
          "latency only. The no-reconfiguration table isolates this effect.",
          "- Configurations absent from the pool are excluded (VGG16 170, ViT 216 of the published spaces).", ""]
    files = []
    for w in sorted({r["workload"] for net in sims for r in sims[net]["rows"]}):
        files += _plots(out_dir, sims, w)
    L += ["## Plots", ""] + [f"![{f}]({f})" for f in files] + [""]
    (out_dir / "report.md").write_text("\n".join(L))
    return {"out_dir": str(out_dir), "goal": goal_lines, "rows": rows}
