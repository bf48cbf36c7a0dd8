"""Figure 6.2: latency and RoC_B vs bandwidth for AlexNet, VGG11, SSD300 on C0, C1, C2 (Sec. 6.4).

The thesis gives no numbers for this figure, only observations; each is checked on our
points. "Significantly lower" is read as at least ``SIGNIFICANT`` (10 %) lower latency.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.plotting import (
    EPS,
    bandwidths,
    bw_label,
    fmt,
    index,
    line_panels,
    point_row,
    series,
    solved,
    sort_rows,
)
from layerplan.experiments.records import claim, claims_markdown, markdown_table, write_csv

NAME = "fig6_2"
TITLE = "Figure 6.2: latency and RoC_B vs network bandwidth, AlexNet / VGG11 / SSD300 on C0, C1, C2"
DNNS = ["alexnet", "vgg11", "ssd300"]
CONFIGS = ["C0", "C1", "C2"]
SIGNIFICANT = 0.10  # relative latency reduction read as "significant"
MID_BW = 1e5  # the bandwidth of the last observation
COLS = ["dnn", "config", "bandwidth_Bps", "latency_s", "T_c_s", "T_x_s", "T_w_s", "RoC_A", "RoC_B",
        "transitions", "status"]


def rows_from(records: list[dict]) -> list[dict]:
    ok, _ = solved(records)
    return sort_rows([point_row(r) for r in ok], DNNS, CONFIGS)


def _gain(base: float, new: float) -> float:
    """Relative latency reduction of ``new`` against ``base``."""
    return (base - new) / base if base else 0.0


def claims_from(rows: list[dict]) -> tuple[list[dict], list[str]]:
    at = index(rows, "dnn", "config", "bandwidth_Bps")
    bws = bandwidths(rows)
    dnns = [d for d in DNNS if any(r["dnn"] == d for r in rows)]
    claims, skipped = [], []
    if not bws or not dnns:
        return claims, ["no solved points"]
    lo, hi = bws[0], bws[-1]

    def lat(d, c, b):
        r = at.get((d, c, b))
        return None if r is None else r["latency_s"]

    def roc_b(d, c, b):
        r = at.get((d, c, b))
        return None if r is None else r["RoC_B"]

    # 1. lowest bandwidth: everything on A for C1 and C2
    vals = {(d, c): roc_b(d, c, lo) for d in dnns for c in ("C1", "C2")}
    if None in vals.values():
        skipped.append("lowest bandwidth, RoC_B = 0 (points missing)")
    else:
        same = all(abs(lat(d, c, lo) - lat(d, "C0", lo)) <= EPS for d in dnns for c in ("C1", "C2")
                   if lat(d, "C0", lo) is not None)
        claims.append(claim(
            f"at the lowest bandwidth ({bw_label(lo)} B/s) the ILP runs everything on A for C1 and C2 "
            "(RoC_B = 0), i.e. single-device execution is best",
            all(v <= EPS for v in vals.values()) and same,
            "RoC_B " + ", ".join(f"{d}/{c} {fmt(v, 3)}" for (d, c), v in vals.items())
            + f"; C1 and C2 latency {'equal' if same else 'not equal'} to C0"))

    # 2. highest bandwidth: C1 and C2 significantly below C0, per configuration
    for c in ("C1", "C2"):
        gains = {d: _gain(lat(d, "C0", hi), lat(d, c, hi)) for d in dnns
                 if lat(d, "C0", hi) is not None and lat(d, c, hi) is not None}
        if len(gains) < len(dnns):
            skipped.append(f"{c} vs C0 at the highest bandwidth (points missing)")
            continue
        first = {}
        for d in dnns:
            first[d] = next((b for b in bws if lat(d, c, b) is not None and lat(d, "C0", b) is not None
                             and lat(d, c, b) < lat(d, "C0", b) - EPS), None)
        claims.append(claim(
            f"as bandwidth increases, {c} gets a significantly (>= {SIGNIFICANT:.0%}) lower latency than C0 "
            f"for all networks (checked at {bw_label(hi)} B/s)",
            all(g >= SIGNIFICANT for g in gains.values()),
            ", ".join(f"{d} {fmt(lat(d, 'C0', hi))} s -> {fmt(lat(d, c, hi))} s ({100 * g:.1f}% lower; "
                      f"first below C0 at {bw_label(first[d]) if first[d] else 'none'})"
                      for d, g in gains.items())))

    # 3. highest bandwidth: C2 significantly below C1
    gains = {d: _gain(lat(d, "C1", hi), lat(d, "C2", hi)) for d in dnns
             if lat(d, "C1", hi) is not None and lat(d, "C2", hi) is not None}
    if len(gains) < len(dnns):
        skipped.append("C2 vs C1 at the highest bandwidth (points missing)")
    else:
        claims.append(claim(
            f"at the highest bandwidth ({bw_label(hi)} B/s) C2 (cloud) significantly outperforms C1",
            all(g >= SIGNIFICANT for g in gains.values()),
            ", ".join(f"{d} C1 {fmt(lat(d, 'C1', hi))} s vs C2 {fmt(lat(d, 'C2', hi))} s ({100 * g:.1f}% lower)"
                      for d, g in gains.items())))

    # 4. RoC_B grows with bandwidth
    if len(bws) < 2:
        skipped.append("RoC_B grows with bandwidth (one bandwidth only)")
    else:
        drops, flat, ev = [], [], []
        for d in dnns:
            for c in ("C1", "C2"):
                pts = series(rows, "RoC_B", dnn=d, config=c)
                for (b0, v0), (b1, v1) in zip(pts, pts[1:]):
                    if v1 < v0 - EPS:
                        drops.append(f"{d}/{c} {fmt(v0, 3)}@{bw_label(b0)} -> {fmt(v1, 3)}@{bw_label(b1)}")
                if pts and pts[-1][1] <= pts[0][1] + EPS:
                    flat.append(f"{d}/{c}")
                if pts:
                    ev.append(f"{d}/{c} " + " ".join(fmt(v, 2) for _, v in pts))
        claims.append(claim(
            "RoC_B grows with bandwidth for C1 and C2 (never decreases, and is larger at the highest "
            "bandwidth than at the lowest)",
            not drops and not flat,
            "; ".join(ev) + (f"; decreases: {', '.join(drops)}" if drops else "")
            + (f"; no growth: {', '.join(flat)}" if flat else "")))

    # 5. at 1e5 B/s: single device best for AlexNet and VGG11, C2 significantly best for SSD
    if MID_BW not in bws:
        skipped.append(f"best configuration at {bw_label(MID_BW)} B/s (not in the sweep)")
    else:
        b = MID_BW
        best = {}
        for d in dnns:
            lats = {c: lat(d, c, b) for c in CONFIGS if lat(d, c, b) is not None}
            best[d] = lats
        ev = "; ".join(f"{d}: " + ", ".join(f"{c} {fmt(v)} s" for c, v in lats.items()) for d, lats in best.items())
        small = [d for d in ("alexnet", "vgg11") if d in best]
        if small and all("C0" in best[d] for d in small):
            claims.append(claim(
                f"at {bw_label(b)} B/s single-device execution (C0) is the optimal choice for "
                + " and ".join(small) + " (no distributed plan is faster)",
                all(best[d]["C0"] <= min(best[d].values()) + EPS for d in small), ev))
        if "ssd300" in best and {"C0", "C2"} <= set(best["ssd300"]):
            s = best["ssd300"]
            claims.append(claim(
                f"at {bw_label(b)} B/s C2 (cloud) gives SSD a significantly lower latency than C0, "
                "and is its best configuration",
                s["C2"] <= min(s.values()) + EPS and _gain(s["C0"], s["C2"]) >= SIGNIFICANT,
                "ssd300: " + ", ".join(f"{c} {fmt(v)} s" for c, v in s.items())
                + f" (C2 {100 * _gain(s['C0'], s['C2']):.1f}% below C0)"))
    return claims, skipped


def plots(rows: list[dict], out_dir: Path) -> list[str]:
    dnns = [d for d in DNNS if any(r["dnn"] == d for r in rows)]
    styles = {"C0": {"color": "k", "linestyle": "--"}, "C1": {"color": "tab:blue"}, "C2": {"color": "tab:red"}}
    lat = [{"title": d, "styles": styles,
            "lines": {c: series(rows, "latency_s", dnn=d, config=c) for c in CONFIGS}} for d in dnns]
    roc = [{"title": d, "styles": styles,
            "lines": {f"RoC$_B^{{{c}}}$": series(rows, "RoC_B", dnn=d, config=c) for c in ("C1", "C2")}}
           for d in dnns]
    for p in roc:
        p["styles"] = {f"RoC$_B^{{{c}}}$": styles[c] for c in ("C1", "C2")}
    files = [
        line_panels(out_dir / f"{NAME}_latency.png", lat, suptitle="Fig. 6.2: inference latency",
                    logy=True, ylabel="latency (s)"),
        line_panels(out_dir / f"{NAME}_roc_b.png", roc, suptitle="Fig. 6.2: ratio of compute on B",
                    ylabel="RoC_B", ylim=(-0.05, 1.05)),
    ]
    return [f.name for f in files]


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = rows_from(records)
    _, failed = solved(records)
    write_csv(out_dir / f"{NAME}.csv", rows)
    claims, skipped = claims_from(rows)
    files = plots(rows, out_dir) if rows else []
    lines = [
        f"# {TITLE}", "",
        f"{len(rows)} solved points ({len(failed)} failed jobs); preload formulation (Eqs. 5.4, 5.5, 6.2); "
        "device A is source and destination; the swept bandwidth is the A<->B link of C1 and C2 "
        "(C0 has no link, its latency is the same at every bandwidth). The thesis gives no numbers for "
        f"this figure; 'significantly' is read as >= {SIGNIFICANT:.0%} lower latency.", "",
        "Plots: " + ", ".join(f"[{f}]({f})" for f in files), "",
    ]
    lines += markdown_table(rows, COLS)
    lines += claims_markdown(claims)
    if skipped:
        lines += ["", "Not evaluated (points not in this sweep): " + "; ".join(skipped)]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "claims": claims, "skipped": skipped, "plots": files, "failed": len(failed)}
