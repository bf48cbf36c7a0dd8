"""Figure 8.4: energy-constrained trade-off of FreDDI (min global latency s.t. edge energy <= cap)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.fig8_3 import frequency_claims, monotone, point_rows, series, write_report
from layerplan.experiments.records import claim

NAME = "fig8_4"
TITLE = "Figure 8.4: energy-constrained trade-off (min global latency s.t. edge energy <= cap), FreDDI"


def build(records: list[dict], out_dir: Path) -> dict:
    rows = point_rows(records, lambda cfg: float((cfg.get("objective") or {}).get("max_energy_J")))
    ok, bad = monotone(rows, "latency_ms", "down")
    claims = [claim("relaxing the energy cap never increases FreDDI's global latency", ok,
                    "; ".join(bad) if bad else f"{len(series(rows))} series monotone")]
    claims += frequency_claims(rows, "latency_ms")
    higher = []
    for key, pts in series(rows).items():
        for a, b in zip(pts, pts[1:]):
            try:
                if float(b["F_MHz"]) > float(a["F_MHz"]) and b["split"] != a["split"]:
                    higher.append(f"{'/'.join(key)}: {a['F_MHz']} -> {b['F_MHz']} MHz, {a['split']} -> {b['split']}")
            except ValueError:
                pass
    claims.append(claim("sometimes a higher frequency is chosen as the cap relaxes, together with a later transition",
                        bool(higher), "; ".join(higher) or "never"))
    return write_report(NAME, TITLE, rows, claims, out_dir, "edge energy cap (mJ)", "E_mJ", 1e3, [])
