"""DONNA-style throughput-energy fronts (issue 14, docs/throughput.md).

One job per (cluster, links): the exact (cycle, energy) front of objective=throughput by
epsilon constraints, DONNA's scalarized points min (1 - a) tau / tau_ref + a E / E_ref for
each a, and the single-device plans. The report plots throughput against energy per
inference (all devices) for every cluster, strong links left and weak links right, with
the scalarized points on the exact front, and checks DONNA's headline claim (up to 4x
speedup with about 4x lower per-device energy than a single GPU) on our numbers.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, markdown_table, write_csv

NAME = "donna_pareto"
TITLE = "DONNA-style throughput-energy fronts: CPU + GPU + CIM vs homogeneous clusters, strong vs weak links"
CLUSTERS = ["donna_hetero", "donna_gpu", "donna_cpu", "donna_cim"]
LINKS = ["donna_strong", "donna_weak"]
COLORS = {"donna_hetero": "tab:red", "donna_gpu": "tab:green", "donna_cpu": "tab:blue", "donna_cim": "tab:purple"}


def _job(rec: dict) -> dict:
    cfg = rec.get("config") or {}
    tp = rec.get("throughput") or {}
    return {"cluster": (cfg.get("devices") or {}).get("name"), "links": _links(cfg), "dnn": rec.get("dnn"),
            "solved": rec.get("status") in ("optimal", "feasible"), "error": rec.get("error"),
            "front": tp.get("front") or [], "scalarized": tp.get("scalarized") or [],
            "single": tp.get("single_device") or {}}


def _links(cfg: dict) -> str:
    net = cfg.get("network") or {}
    for k, v in net.items():
        if k.startswith("bandwidth_"):
            return {"bandwidth_Gbps": f"{v} Gbit/s", "bandwidth_Mbps": f"{v} Mbit/s"}.get(k, f"{k}={v}")
    return "?"


def per_device_energy(point: dict) -> float:
    """Largest energy any one device spends per inference (the 'per-device energy')."""
    vals = [v for v in (point.get("energy_by_device_J") or {}).values() if v > 0]
    return max(vals) if vals else 0.0


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = sorted((_job(r) for r in records), key=lambda j: (CLUSTERS.index(j["cluster"]) if j["cluster"] in CLUSTERS
                                                             else 99, str(j["links"])))
    rows, srows, table = [], [], []
    gpu_ref = {}
    for j in jobs:
        if j["cluster"] == "donna_gpu" or "gpu" in j["single"]:
            g = j["single"].get("gpu")
            if g:
                gpu_ref[j["links"]] = g
    for j in jobs:
        for k, p in enumerate(j["front"]):
            rows.append({"cluster": j["cluster"], "links": j["links"], "point": k, "cycle_ms": 1e3 * p["cycle_s"],
                         "throughput_per_s": p["throughput_per_s"], "energy_J": p["energy_J"],
                         "per_device_energy_J": per_device_energy(p), "bottleneck": p["bottleneck"],
                         "layers": " ".join(f"{d}:{len(v)}" for d, v in p["layers_by_device"].items())})
        for p in j["scalarized"]:
            on = any(abs(p["cycle_s"] - q["cycle_s"]) <= 1e-6 * q["cycle_s"] and
                     abs(p["energy_J"] - q["energy_J"]) <= 1e-6 * max(q["energy_J"], 1e-12) for q in j["front"])
            srows.append({"cluster": j["cluster"], "links": j["links"], "a": p["energy_weight"],
                          "cycle_ms": 1e3 * p["cycle_s"], "energy_J": p["energy_J"], "on_exact_front": on})
        g = gpu_ref.get(j["links"])
        mine = [r for r in srows if r["cluster"] == j["cluster"] and r["links"] == j["links"]]
        found = {k for k, q in enumerate(j["front"]) for r in mine if r["on_exact_front"]
                 and abs(r["cycle_ms"] - 1e3 * q["cycle_s"]) <= 1e-6 * 1e3 * q["cycle_s"]}
        t = {"cluster": j["cluster"], "links": j["links"], "front_points": len(j["front"]),
             "front_points_found_by_a": len(found),
             "a_values_on_front": f"{sum(1 for r in mine if r['on_exact_front'])}/{len(mine)}"}
        if j["front"]:
            fastest, leanest = j["front"][0], j["front"][-1]
            t.update({"max_throughput_per_s": fastest["throughput_per_s"], "energy_at_max_J": fastest["energy_J"],
                      "min_energy_J": leanest["energy_J"], "throughput_at_min_energy": leanest["throughput_per_s"]})
            if g:
                g_dev = max(v for v in g["energy_by_device_J"].values())
                best = max(j["front"], key=lambda p: min(g["cycle_s"] / p["cycle_s"], g_dev / max(per_device_energy(p),
                                                                                                1e-30)))
                t.update({"single_gpu_throughput_per_s": 1 / g["cycle_s"], "single_gpu_device_energy_J": g_dev,
                          "speedup_vs_gpu_at_max": g["cycle_s"] / fastest["cycle_s"],
                          "balanced_speedup": g["cycle_s"] / best["cycle_s"],
                          "balanced_per_device_energy_ratio": g_dev / max(per_device_energy(best), 1e-30)})
        table.append(t)
    write_csv(out_dir / f"{NAME}.csv", rows)
    write_csv(out_dir / f"{NAME}_scalarized.csv", srows)
    write_csv(out_dir / f"{NAME}_summary.csv", table)
    _plot(jobs, out_dir / f"{NAME}.png")
    claims = []
    on = [r["on_exact_front"] for r in srows if 0 < r["a"] < 1]
    if on:
        claims.append(claim("DONNA's scalarized points (0 < a < 1) are Pareto-optimal: each lies on the exact front",
                            all(on), f"{sum(on)}/{len(on)} points with 0 < a < 1 on the front"))
    multi = [t for t in table if t["front_points"] > 0]
    if multi:
        claims.append(claim("the epsilon-constraint front finds points that no a of the scalarization reaches "
                            "(unsupported points, or points between the a values swept)",
                            any(t["front_points"] > t["front_points_found_by_a"] for t in multi),
                            ", ".join(f"{t['cluster']} {t['links']}: {t['front_points']} exact, "
                                      f"{t['front_points_found_by_a']} reached by a" for t in multi)))
    het = [t for t in table if t["cluster"] == "donna_hetero" and "balanced_speedup" in t]
    if het:
        ok = any(t["balanced_speedup"] >= 3.5 and t["balanced_per_device_energy_ratio"] >= 3.5 for t in het)
        claims.append(claim("DONNA: up to 4x speedup with about 4x lower per-device energy than a single GPU "
                            "(heterogeneous cluster; per-device energy = the largest device's energy per inference)",
                            ok, "; ".join(f"{t['links']}: fastest plan {t['speedup_vs_gpu_at_max']:.2f}x the single "
                                          f"GPU's throughput; best balanced plan {t['balanced_speedup']:.2f}x faster "
                                          f"with {t['balanced_per_device_energy_ratio']:.2f}x lower per-device energy"
                                          for t in het)))
    strong = {t["cluster"]: t for t in table if t["links"] == "10 Gbit/s" and t["front_points"]}
    weak = {t["cluster"]: t for t in table if t["links"] == "100 Mbit/s" and t["front_points"]}
    both = [c for c in strong if c in weak]
    if both:
        claims.append(claim("weak links lower the best throughput (or keep it) for every cluster",
                            all(weak[c]["max_throughput_per_s"] <= strong[c]["max_throughput_per_s"] * (1 + 1e-9)
                                for c in both),
                            ", ".join(f"{c}: {strong[c]['max_throughput_per_s']:.1f} -> "
                                      f"{weak[c]['max_throughput_per_s']:.1f}/s" for c in both)))
    cols = ["cluster", "links", "front_points", "front_points_found_by_a", "a_values_on_front", "max_throughput_per_s",
            "energy_at_max_J", "min_energy_J", "throughput_at_min_energy", "single_gpu_throughput_per_s",
            "single_gpu_device_energy_J", "speedup_vs_gpu_at_max", "balanced_speedup",
            "balanced_per_device_energy_ratio"]
    lines = [f"# {TITLE}", "",
             "ViT-B/16 (16 major layers), frames of 224x224x3 arriving at the CPU (the source and destination). "
             "Exact front: epsilon constraints on the cycle, lexicographic (min energy, then min cycle) at each step; "
             "scalarized: DONNA's min (1 - a) tau / tau_ref + a E / E_ref, tau_ref and E_ref the best single-device "
             "values. Energy per inference = compute (P_active x busy time; MAC x mac_energy on the CIM), NIC "
             "(P_comm x transfer time) and idle power over the rest of the cycle, summed over the devices that run "
             "layers. Device parameters: data/devices/catalogue.yaml (ISAAC-organisation CIM, Xeon Gold 6130, "
             "RTX 2080 Ti; powers are TDP-level approximations). `balanced`: the front point maximizing "
             "min(speedup, per-device energy ratio) against the single GPU (every layer on the GPU, frames sent "
             "from the CPU).", ""]
    lines += markdown_table(table, cols)
    lines += ["", f"Front points: `{NAME}.csv`; scalarized points: `{NAME}_scalarized.csv`; plot `{NAME}.png`.", ""]
    fails = [j for j in jobs if not j["solved"]]
    if fails:
        lines += ["No solution:"] + [f"- {j['cluster']} {j['links']}: {j['error']}" for j in fails]
    from layerplan.experiments.records import claims_markdown

    (out_dir / "report.md").write_text("\n".join(lines + claims_markdown(claims)).replace(
        "## Claims of the thesis, checked on our numbers", "## Claims (DONNA, and of the method), checked on our numbers")
        + "\n")
    return {"rows": table, "claims": claims}


def _plot(jobs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    links = sorted({j["links"] for j in jobs}, key=lambda s: ("Mbit" in s, s))
    fig, axes = plt.subplots(1, max(len(links), 1), figsize=(6.0 * max(len(links), 1), 4.4), squeeze=False)
    for ax, ln in zip(axes[0], links):
        for j in jobs:
            if j["links"] != ln or not j["front"]:
                continue
            c = COLORS.get(j["cluster"], "0.3")
            xs = [p["energy_J"] for p in j["front"]]
            ys = [p["throughput_per_s"] for p in j["front"]]
            ax.step(xs, ys, where="post", color=c, lw=0.8, alpha=0.6)
            ax.plot(xs, ys, "o", color=c, ms=4, label=f"{j['cluster']} exact front")
            sx = [p["energy_J"] for p in j["scalarized"]]
            sy = [p["throughput_per_s"] for p in j["scalarized"]]
            ax.plot(sx, sy, "x", color="k", ms=7, mew=1.2)
            g = j["single"].get("gpu")
            if g and j["cluster"] == "donna_hetero":
                ax.plot([g["energy_J"]], [1 / g["cycle_s"]], "s", color="tab:orange", ms=7, label="single GPU")
        ax.plot([], [], "x", color="k", label="scalarized (DONNA a)")
        ax.set_xscale("log")
        ax.set_xlabel("energy per inference, all devices (J)")
        ax.set_ylabel("throughput (inferences/s)")
        ax.set_title(f"links {ln}", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
