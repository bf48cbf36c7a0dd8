"""Figure 8.3: latency-constrained trade-off of FreDDI (Sec. 8.4); also the shared sweep report
of Figs. 8.4 and 8.5.

One point per solved job: the constraint (latency cap, energy cap or K), the plan's global
latency and edge energy, the edge frequency (``N/A``: the edge computes nothing, everything is
offloaded) and the split. Plot like the thesis' figures: one row per (edge device, DNN), the
latency column and the energy column against the constraint, 3G red and WiFi blue, the
frequency written at each point, the constraint as a dashed line where it bounds the metric.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, claims_markdown, markdown_table, write_csv

NAME = "fig8_3"
TITLE = "Figure 8.3: latency-constrained trade-off (min edge energy s.t. latency <= cap), FreDDI"
COLORS = {"3g": "tab:red", "wifi": "tab:blue", "4g": "tab:green"}
EDGES = ["jetson_nano", "lepotato"]
DNNS = ["alexnet", "vgg11"]


def _mhz(label) -> str:
    if label is None:
        return "N/A"
    try:
        return f"{float(label) / 1e6:.0f}"
    except (TypeError, ValueError):
        return str(label)


def point_rows(records: list[dict], x_of) -> list[dict]:
    rows = []
    for rec in records:
        cfg = rec.get("config") or {}
        row = {"dnn": (cfg.get("dnn") or {}).get("name"),
               "edge": ((cfg.get("profiles") or {}).get("map") or {}).get("edge"),
               "radio": (cfg.get("network") or {}).get("radio"), "x": x_of(cfg), "status": rec.get("status")}
        if rec.get("status") in ("optimal", "feasible"):
            fr = rec.get("freddi") or {}
            row.update({"latency_ms": 1e3 * rec["latency_s"]["total"],
                        "E_mJ": 1e3 * fr["energy_J"]["edge"]["total"],
                        "F_MHz": _mhz((fr.get("frequency") or {}).get("edge")),
                        "split": " ".join(f"{t['after_layer']}->{t['to']}" for t in rec.get("transitions") or [])
                        or "all on edge"})
        rows.append(row)
    rows.sort(key=lambda r: (str(r["dnn"]), str(r["edge"]), str(r["radio"]), r["x"]))
    return rows


def series(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["status"] in ("optimal", "feasible"):
            out.setdefault((r["dnn"], r["edge"], r["radio"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["x"]) for k, v in out.items()}


def monotone(rows: list[dict], metric: str, direction: str) -> tuple[bool, list[str]]:
    """Within each series, ``metric`` never increases (direction 'down') or never decreases
    ('up') as the constraint x grows."""
    bad = []
    for key, pts in series(rows).items():
        for a, b in zip(pts, pts[1:]):
            if (direction == "down" and b[metric] > a[metric] * (1 + 1e-7)) or \
                    (direction == "up" and b[metric] < a[metric] * (1 - 1e-7)):
                bad.append(f"{'/'.join(key)} x={a['x']:g}->{b['x']:g}: {a[metric]:.4g}->{b[metric]:.4g}")
    return not bad, bad


def plot(rows: list[dict], path: Path, title: str, x_label: str, cap_metric: str | None, x_scale: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(EDGES) * len(DNNS), 2, figsize=(10, 2.6 * len(EDGES) * len(DNNS)), squeeze=False)
    ser = series(rows)
    for k, (edge, dnn) in enumerate((e, d) for e in EDGES for d in DNNS):
        for c, (metric, ylabel) in enumerate((("latency_ms", "latency (ms)"), ("E_mJ", "edge energy (mJ)"))):
            ax = axes[k][c]
            for radio, color in COLORS.items():
                pts = ser.get((dnn, edge, radio))
                if not pts:
                    continue
                xs = [p["x"] * x_scale for p in pts]
                ys = [p[metric] for p in pts]
                ax.plot(xs, ys, "o-", color=color, ms=4, label=radio)
                for x, y, p in zip(xs, ys, pts):
                    ax.annotate(p["F_MHz"], (x, y), fontsize=6, xytext=(2, 3), textcoords="offset points", color=color)
            if cap_metric == metric:
                xs = sorted({r["x"] * x_scale for r in rows if r["dnn"] == dnn and r["edge"] == edge})
                if xs:
                    ax.plot(xs, xs, "--", color="0.5", lw=0.8, label="constraint")
            ax.set_title(f"{edge}, {dnn}", fontsize=8)
            ax.set_xlabel(x_label, fontsize=8)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(name: str, title: str, rows: list[dict], claims: list[dict], out_dir: Path, x_label: str,
                 cap_metric: str | None, x_scale: float, notes: list[str]) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / f"{name}.csv", rows)
    png = plot(rows, out_dir / f"{name}.png", title, x_label, cap_metric, x_scale)
    view = [dict(r, x=r["x"] * x_scale) for r in rows]
    fails = sum(1 for r in rows if r["status"] not in ("optimal", "feasible"))
    lines = [f"# {title}", "",
             "Devices are calibrated synthetic stand-ins (data/profiles/dvfs, docs/freddi.md). "
             f"x = {x_label}; F_MHz = edge frequency (N/A: everything offloaded). {len(rows)} jobs, "
             f"{fails} without a solution (cap tighter than any plan).", ""]
    lines += markdown_table(view, ["dnn", "edge", "radio", "x", "status", "latency_ms", "E_mJ", "F_MHz", "split"])
    lines += [""] + notes + ["", f"Plot: [{png.name}]({png.name})"]
    lines += claims_markdown(claims)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "claims": claims}


def frequency_claims(rows: list[dict], metric_down: str) -> list[dict]:
    """'usually (but not always)' a lower frequency when the constraint relaxes; some N/A points."""
    lower = same = higher = 0
    for pts in series(rows).values():
        for a, b in zip(pts, pts[1:]):
            if b[metric_down] < a[metric_down] * (1 - 1e-7):
                fa, fb = a["F_MHz"], b["F_MHz"]
                try:
                    fa_, fb_ = float(fa), float(fb)
                except ValueError:
                    same += 1
                    continue
                lower += fb_ < fa_
                higher += fb_ > fa_
                same += fb_ == fa_
    return [claim(f"when relaxing the constraint improves {'energy' if metric_down == 'E_mJ' else 'latency'}, "
                  "a lower frequency is usually (not always) chosen; sometimes a higher one",
                  lower > 0 and lower >= higher,
                  f"improving steps: {lower} lower frequency, {same} same (or edge idle), {higher} higher")]


def build(records: list[dict], out_dir: Path) -> dict:
    rows = point_rows(records, lambda cfg: float((cfg.get("objective") or {}).get("max_latency_s")))
    ok, bad = monotone(rows, "E_mJ", "down")
    claims = [claim("relaxing the latency cap never increases FreDDI's edge energy", ok,
                    "; ".join(bad) if bad else f"{len(series(rows))} series monotone")]
    claims += frequency_claims(rows, "E_mJ")
    na = [r for r in rows if r.get("F_MHz") == "N/A"]
    claims.append(claim("some points offload everything (frequency N/A), e.g. with WiFi", bool(na),
                        ", ".join(f"{r['dnn']}/{r['edge']}/{r['radio']}@{1e3 * r['x']:g} ms" for r in na) or "none"))
    nano = series(rows).get(("alexnet", "jetson_nano", "wifi"))
    if nano and len(nano) > 1:
        a, b = nano[0], nano[-1]
        claims.append(claim(
            "Nano/AlexNet/WiFi: relaxing the cap lowers the energy through both a lower frequency and a different split "
            "(thesis: 0.028 s -> 0.084 s, 0.90 J -> 0.20 J, -78 %, 922 -> 691 MHz, conv5|fc1 -> conv1|conv2)",
            b["E_mJ"] < a["E_mJ"] and b["F_MHz"] != a["F_MHz"] and b["split"] != a["split"],
            f"{1e3 * a['x']:g} ms -> {1e3 * b['x']:g} ms: {a['E_mJ']:.1f} -> {b['E_mJ']:.1f} mJ "
            f"({100 * (b['E_mJ'] - a['E_mJ']) / a['E_mJ']:+.0f} %), {a['F_MHz']} -> {b['F_MHz']} MHz, "
            f"{a['split']} -> {b['split']}"))
    return write_report(NAME, TITLE, rows, claims, out_dir, "latency cap (ms)", "latency_ms", 1e3, [])
