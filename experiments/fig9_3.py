"""Figure 9.3: the CF-minimal plan re-solved every hour of a day (Sec. 9.4, dynamic scheduling)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, markdown_table, write_csv
from layerplan.experiments.table9 import cadi_row, write_report

NAME = "fig9_3"
TITLE = "Figure 9.3: hourly carbon footprint and transition layer of the CF-minimal plan (VGG11)"


def _corr(xs, ys) -> float:
    n = len(xs)
    if n < 3:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sx = sum((x - mx) ** 2 for x in xs) ** 0.5
    sy = sum((y - my) ** 2 for y in ys) ** 0.5
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / (sx * sy) if sx > 0 and sy > 0 else float("nan")


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for rec in records:
        r = cadi_row(rec)
        f9 = (rec.get("config") or {}).get("fig9") or {}
        r["day"], r["hour"] = str(f9.get("day")), int(f9.get("hour", 0))
        rows.append(r)
    rows.sort(key=lambda r: (r["grid"], r["day"], r["hour"]))
    write_csv(out_dir / f"{NAME}.csv", [{k: v for k, v in r.items() if k != "error"} for r in rows])
    series: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["solved"]:
            series.setdefault((r["day"], r["grid"]), []).append(r)
    png = plot(series, out_dir / f"{NAME}.png")
    claims = []
    corr = {k: _corr([r["CF_mg"] for r in v], [(r["C_src_g_per_kWh"] + r["C_partner_g_per_kWh"]) / 2 for r in v])
            for k, v in series.items()}
    if corr:
        claims.append(claim("the hourly carbon footprint tracks the grids' carbon intensity (correlation with the "
                            "mean intensity of the two grids > 0.5)",
                            all(c > 0.5 for c in corr.values()),
                            ", ".join(f"{g} {d}: r = {c:.2f}" for (d, g), c in corr.items())))
        changes = {k: len({r["L_trans"] for r in v}) for k, v in series.items()}
        claims.append(claim("the CF-optimal transition layer changes during the day",
                            any(n > 1 for n in changes.values()),
                            ", ".join(f"{g} {d}: {' '.join(sorted({r['L_trans'] for r in series[(d, g)]}))}"
                                      for (d, g) in changes)))
    cols = ["day", "hour", "grid", "C_src_g_per_kWh", "C_partner_g_per_kWh", "CF_mg", "I", "L_trans", "F_src_MHz",
            "F_partner_MHz", "alone_CF_mg"]
    lines = [f"# {TITLE}", "",
             "One job per hour: the carbon intensities of the hour (2022 Electricity Maps lifecycle traces; the thesis "
             "used 2024) and the CF-minimal plan for that hour (CF in mgCO2 per hour, U = 1 h). `alone_CF_mg`: the "
             "source alone at full throughput in the same hour (dashed in the plot).", "",
             f"Plot: [{png.name}]({png.name})", ""]
    lines += markdown_table(rows, cols)
    write_report(out_dir, lines, rows, lambda r: f"{r['grid']} {r['day']} {r['hour']}", claims)
    return {"rows": rows, "claims": claims}


def plot(series: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted({d for d, _ in series}) or ["-"]
    fig, axes = plt.subplots(len(days), 1, figsize=(9, 3.4 * len(days)), squeeze=False)
    colors = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    grids = sorted({g for _, g in series})
    for ax, day in zip(axes[:, 0], days):
        for c, grid in zip(colors, grids):
            pts = series.get((day, grid), [])
            if not pts:
                continue
            hours = [r["hour"] for r in pts]
            ax.plot(hours, [r["CF_mg"] for r in pts], "o-", color=c, label=f"{grid} (min CF)")
            ax.plot(hours, [r["alone_CF_mg"] for r in pts], "--", color=c, alpha=0.6, label=f"{grid.split(' ')[0]} alone")
            prev = None
            for r in pts:
                if r["L_trans"] != prev:
                    ax.annotate(r["L_trans"], (r["hour"], r["CF_mg"]), textcoords="offset points", xytext=(0, 6),
                                fontsize=7, color=c)
                    prev = r["L_trans"]
        ax.set_title(f"VGG11, {day}")
        ax.set_xlabel("hour (UTC)")
        ax.set_ylabel("CF (mgCO2 / h)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
