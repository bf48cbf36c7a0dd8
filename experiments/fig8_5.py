"""Figure 8.5: privacy-constrained trade-off of FreDDI (first K layers on the edge, min edge energy)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.fig8_3 import monotone, point_rows, series, write_report
from layerplan.experiments.records import claim

NAME = "fig8_5"
TITLE = "Figure 8.5: privacy-constrained trade-off (first K layers on the edge, min edge energy), FreDDI"
FASTEST = {"jetson_nano": "922", "lepotato": "1200"}


def build(records: list[dict], out_dir: Path) -> dict:
    rows = point_rows(records, lambda cfg: float((cfg.get("objective") or {}).get("k")))
    ok, bad = monotone(rows, "E_mJ", "up")
    claims = [claim("more privacy (larger K) never lowers the edge energy", ok,
                    "; ".join(bad) if bad else f"{len(series(rows))} series monotone")]
    below = [f"{r['dnn']}/{r['edge']}/{r['radio']} K={r['x']:g}: {r['F_MHz']} MHz" for r in rows
             if r.get("F_MHz") not in (None, "N/A") and r["x"] > 0 and r["F_MHz"] != FASTEST.get(r["edge"])]
    claims.append(claim("FreDDI can select an operating frequency below the fastest when K layers must stay on the edge",
                        bool(below), f"{len(below)} points, e.g. " + "; ".join(below[:4]) if below else "none"))
    return write_report(NAME, TITLE, rows, claims, out_dir, "K (layers on the edge)", None, 1.0, [])
