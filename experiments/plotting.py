"""Shared helpers of the bandwidth-sweep figures (Figs. 6.2-6.4): one flat row per solved
point of a sweep, lookups over those rows, and line plots (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

#: equality tolerance on latencies (s) and ratios of compute
EPS = 1e-6
#: a ratio of compute at least this large counts as "all computation" (RoC = 1): the
#: preprocessing pseudo layer (3x1280x720 FLOP) may stay on the source device
ROC_ALL = 0.999
PSEUDO = ("source", "destination")


def config_of(rec: dict) -> dict:
    return rec.get("config") or {}


def layers_on(rec: dict, device: str) -> list[str]:
    """Layers the plan puts on ``device``, without the source/destination pseudo layers."""
    return [a["layer"] for a in rec.get("assignment") or [] if a["device"] == device and a["layer"] not in PSEUDO]


def point_row(rec: dict, extra: dict | None = None, *, on_a: bool = False) -> dict:
    """One solved job as a flat row: dnn, configuration, bandwidth, latency terms, RoC per
    device, number of transitions; with ``on_a`` also the layers on device A."""
    cfg = config_of(rec)
    lat = rec.get("latency_s") or {}
    roc = rec.get("ratio_of_compute") or {}
    row = {
        "dnn": rec.get("dnn") or (cfg.get("dnn") or {}).get("name"),
        "config": (cfg.get("devices") or {}).get("name"),
        "bandwidth_Bps": float((cfg.get("network") or {}).get("bandwidth_Bps")),
    }
    row.update(extra or {})
    row.update(
        {
            "latency_s": lat.get("total"),
            "T_c_s": lat.get("compute"),
            "T_x_s": lat.get("communication"),
            "T_w_s": lat.get("weight"),
            "RoC_A": roc.get("A"),
            "RoC_B": roc.get("B"),
            "RoC_C": roc.get("C"),
            "transitions": len(rec.get("transitions") or []),
            "status": rec.get("status"),
        }
    )
    if on_a:
        row["layers_on_A"] = " ".join(layers_on(rec, "A"))
    return row


def solved(records: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(solved records, failed records)."""
    ok, bad = [], []
    for rec in records:
        (ok if rec.get("status") in ("optimal", "feasible") else bad).append(rec)
    return ok, bad


def sort_rows(rows: list[dict], dnn_order: list[str], config_order: list[str]) -> list[dict]:
    def key(r):
        d = dnn_order.index(r["dnn"]) if r["dnn"] in dnn_order else len(dnn_order)
        c = config_order.index(r["config"]) if r["config"] in config_order else len(config_order)
        return (d, str(r["dnn"]), c, str(r["config"]), r["bandwidth_Bps"])

    return sorted(rows, key=key)


def index(rows: list[dict], *keys: str) -> dict:
    """{(row[k] for k in keys): row}; bandwidth keys are floats."""
    return {tuple(r[k] for k in keys): r for r in rows}


def bandwidths(rows: list[dict]) -> list[float]:
    return sorted({r["bandwidth_Bps"] for r in rows})


def series(rows: list[dict], y: str, **where) -> list[tuple[float, float]]:
    """(bandwidth, row[y]) of the rows matching ``where``, by bandwidth."""
    pts = [(r["bandwidth_Bps"], r[y]) for r in rows if all(r.get(k) == v for k, v in where.items())]
    return sorted((x, v) for x, v in pts if v is not None)


def bw_label(bw: float) -> str:
    e = int(math.floor(math.log10(bw)))
    m = bw / 10**e
    return f"1e{e}" if abs(m - 1) < 1e-9 else f"{m:g}e{e}"


def fmt(v: float | None, digits: int = 4) -> str:
    return "n/a" if v is None else f"{v:.{digits}g}"


def line_panels(path: Path, panels: list[dict], *, suptitle: str, logy: bool = False,
                ylabel: str = "", ylim: tuple[float, float] | None = None) -> Path:
    """One PNG with a row of panels; each panel is {title, lines: {label: [(x, y), ...]},
    styles: {label: dict(matplotlib kwargs)}}. x is the bandwidth (log axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for label, pts in panel["lines"].items():
            if not pts:
                continue
            xs, ys = zip(*pts)
            style = {"marker": "o", "markersize": 4}
            style.update((panel.get("styles") or {}).get(label, {}))
            ax.plot(xs, ys, label=label, **style)
        ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        if ylim:
            ax.set_ylim(*ylim)
        ax.set_title(panel["title"])
        ax.set_xlabel("network bandwidth (B/s)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(suptitle)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
