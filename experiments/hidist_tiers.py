"""HiDist-style tiers: normalized throughput vs edge-tier energy (issue 14, docs/throughput.md).

One job per model on devices=hidist_tiers: the exact (cycle, edge-tier energy) front of
objective=throughput (energy weights 1 on the edge tier, 0 elsewhere), the scalarized
points, and naive full offloading to each tier (every layer on the tier's best device; the
edge tier's own plan is "all on edge0"). Throughput is normalized to the all-on-edge plan.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, claims_markdown, markdown_table, write_csv

NAME = "hidist_tiers"
TITLE = "HiDist-style tiers: normalized throughput vs edge-tier energy, our front vs naive full offloading"
MODELS = ["vit_b_16", "vit_l_16", "vit_h_14", "yolo11n", "yolo11s", "yolo11m"]
TIER_OF = {"edge0": "edge", "edge1": "edge", "near_edge": "near-edge", "cloud": "cloud"}


def _job(rec: dict) -> dict:
    tp = rec.get("throughput") or {}
    return {"dnn": rec.get("dnn") or ((rec.get("config") or {}).get("dnn") or {}).get("name"),
            "solved": rec.get("status") in ("optimal", "feasible"), "error": rec.get("error"),
            "front": tp.get("front") or [], "scalarized": tp.get("scalarized") or [],
            "single": tp.get("single_device") or {}}


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = sorted((_job(r) for r in records), key=lambda j: MODELS.index(j["dnn"]) if j["dnn"] in MODELS else 99)
    rows, table, naive_rows = [], [], []
    for j in jobs:
        edge = j["single"].get("edge0")
        ref = 1.0 / edge["cycle_s"] if edge else None
        naive = {}
        for dev, v in j["single"].items():
            tier = TIER_OF.get(dev, dev)
            if tier not in naive or v["cycle_s"] < naive[tier]["cycle_s"]:
                naive[tier] = {**v, "device": dev}
        for tier, v in naive.items():
            naive_rows.append({"dnn": j["dnn"], "tier": tier, "device": v["device"], "cycle_ms": 1e3 * v["cycle_s"],
                               "norm_throughput": (1 / v["cycle_s"]) / ref if ref else None,
                               "edge_energy_J": v["edge_tier_energy_J"]})
        for k, p in enumerate(j["front"]):
            rows.append({"dnn": j["dnn"], "point": k, "cycle_ms": 1e3 * p["cycle_s"],
                         "norm_throughput": p["throughput_per_s"] / ref if ref else None,
                         "edge_energy_J": p["edge_tier_energy_J"], "bottleneck": p["bottleneck"],
                         "layers": " ".join(f"{d}:{len(v)}" for d, v in p["layers_by_device"].items())})
        dominated = []
        for tier, v in naive.items():
            dom = any(p["cycle_s"] <= v["cycle_s"] * (1 + 1e-9) and p["edge_tier_energy_J"] <= v["edge_tier_energy_J"]
                      * (1 + 1e-9) + 1e-15 and (p["cycle_s"] < v["cycle_s"] * (1 - 1e-9) or p["edge_tier_energy_J"] <
                                                v["edge_tier_energy_J"] * (1 - 1e-9)) for p in j["front"])
            dominated.append((tier, dom))
        t = {"dnn": j["dnn"], "front_points": len(j["front"])}
        if j["front"] and ref:
            t.update({"max_norm_throughput": j["front"][0]["throughput_per_s"] / ref,
                      "edge_energy_at_max_J": j["front"][0]["edge_tier_energy_J"],
                      "min_edge_energy_J": j["front"][-1]["edge_tier_energy_J"]})
        for tier in ("edge", "near-edge", "cloud"):
            v = naive.get(tier)
            if v and ref:
                t[f"{tier}_norm_throughput"] = (1 / v["cycle_s"]) / ref
                t[f"{tier}_edge_energy_J"] = v["edge_tier_energy_J"]
        t["naive_strictly_dominated"] = ", ".join(tier for tier, d in dominated if d) or "none"
        t["naive_on_front"] = ", ".join(tier for tier, d in dominated if not d) or "none"
        table.append(t)
    write_csv(out_dir / f"{NAME}.csv", rows)
    write_csv(out_dir / f"{NAME}_naive.csv", naive_rows)
    write_csv(out_dir / f"{NAME}_summary.csv", table)
    _plot(jobs, out_dir / f"{NAME}.png")
    claims = []
    full = [t for t in table if "max_norm_throughput" in t and "cloud_norm_throughput" in t]
    if full:
        claims.append(claim("HiDist: our front reaches at least the throughput of every naive full offloading",
                            all(t["max_norm_throughput"] >= max(t.get(f"{x}_norm_throughput", 0) for x in
                                                                ("edge", "near-edge", "cloud")) * (1 - 1e-9)
                                for t in full),
                            ", ".join(f"{t['dnn']} {t['max_norm_throughput']:.2f}x vs best naive "
                                      f"{max(t.get(f'{x}_norm_throughput', 0) for x in ('edge', 'near-edge', 'cloud')):.2f}x"
                                      for t in full)))
        claims.append(claim("HiDist: naive full offloading shows poor trade-offs (every naive plan, to every tier, "
                            "is strictly dominated by a point of our front)",
                            all(t["naive_on_front"] == "none" for t in full),
                            "; ".join(f"{t['dnn']}: dominated {t['naive_strictly_dominated']}, on the front "
                                      f"{t['naive_on_front']}" for t in full)))
    cols = ["dnn", "front_points", "max_norm_throughput", "edge_energy_at_max_J", "min_edge_energy_J",
            "edge_norm_throughput", "edge_edge_energy_J", "near-edge_norm_throughput", "near-edge_edge_energy_J",
            "cloud_norm_throughput", "cloud_edge_energy_J", "naive_strictly_dominated", "naive_on_front"]
    lines = [f"# {TITLE}", "",
             "Devices: edge0, edge1 = Jetson Nano (edge tier), near_edge = GTX 1080 Ti server, cloud = A100; links "
             "1 Gbit/s edge <-> near-edge, 200 Mbit/s near-edge <-> cloud, 100 Mbit/s edge <-> cloud "
             "(conf/network/hidist.yaml). Frames arrive at edge0 at the model's input size. Throughput normalized to "
             "the all-on-edge0 plan; edge-tier energy = energy per inference of edge0 + edge1 (compute, NIC, idle over "
             "the cycle). Naive full offloading = every layer on the best device of a tier.", ""]
    lines += markdown_table(table, cols)
    lines += ["", f"Front points: `{NAME}.csv`; naive plans: `{NAME}_naive.csv`; plot `{NAME}.png`."]
    fails = [j for j in jobs if not j["solved"]]
    if fails:
        lines += ["", "No solution:"] + [f"- {j['dnn']}: {j['error']}" for j in fails]
    (out_dir / "report.md").write_text("\n".join(lines + claims_markdown(claims)).replace(
        "## Claims of the thesis, checked on our numbers", "## Claims (HiDist), checked on our numbers") + "\n")
    return {"rows": table, "claims": claims}


def _plot(jobs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(jobs), 1)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    marks = {"edge": ("tab:green", "^"), "near-edge": ("tab:orange", "s"), "cloud": ("tab:blue", "D")}
    for ax, j in zip([a for r in axes for a in r], jobs):
        edge = j["single"].get("edge0")
        ref = 1.0 / edge["cycle_s"] if edge else 1.0
        xs = [p["edge_tier_energy_J"] for p in j["front"]]
        ys = [p["throughput_per_s"] / ref for p in j["front"]]
        ax.step(xs, ys, where="post", color="tab:red", lw=0.8, alpha=0.6)
        ax.plot(xs, ys, "o", color="tab:red", ms=4, label="our exact front")
        ax.plot([p["edge_tier_energy_J"] for p in j["scalarized"]],
                [p["throughput_per_s"] / ref for p in j["scalarized"]], "x", color="k", ms=6, label="scalarized")
        seen = set()
        for dev, v in j["single"].items():
            tier = TIER_OF.get(dev, dev)
            c, m = marks.get(tier, ("0.4", "v"))
            ax.plot([v["edge_tier_energy_J"]], [(1 / v["cycle_s"]) / ref], m, color=c, ms=7,
                    label=f"naive: all on {tier}" if tier not in seen else None)
            seen.add(tier)
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_yscale("log")
        ax.set_title(j["dnn"], fontsize=9)
        ax.set_xlabel("edge-tier energy per inference (J)")
        ax.set_ylabel("throughput / all-on-edge")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
