"""Table 8.3: energy-constrained FreDDI vs JointDNN-DVFS/-fast/-slow (Sec. 8.4)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments import table8
from layerplan.experiments.records import claim

NAME = "table8_3"
TITLE = "Table 8.3: energy-constrained variation, Nano-like edge + 2080 Ti-like cloud (WiFi; 4G for ViT)"


def _cap_mJ(cfg: dict) -> float:
    return round(1e3 * float((cfg.get("objective") or {}).get("max_energy_J")), 6)


def build(records: list[dict], out_dir: Path) -> dict:
    rows = table8.rows_from(records, "energy_cons", _cap_mJ)
    claims = table8.common_claims(rows, "energy_cons")
    fast = [r for r in rows if r["method"] == "JointDNN-fast" and r["solved"] and "overhead_pct" in r]
    if fast:
        claims.append(claim("JointDNN-fast has a latency overhead vs FreDDI for AlexNet and VGG11 (thesis: +106.2 %, +90.4 %)",
                            all(r["overhead_pct"] > 0 for r in fast if r["dnn"] in ("alexnet", "vgg11")),
                            ", ".join(f"{r['dnn']} {r['overhead_pct']:+.1f}% ({r['split']}, cap_ok {r['cap_ok']})"
                                      for r in fast)))
    dvfs = [r for r in rows if r["method"] == "JointDNN-DVFS" and r["solved"] and "overhead_pct" in r]
    if dvfs:
        claims.append(claim("FreDDI outperforms the default governor (JointDNN-DVFS) in latency under the energy cap",
                            all(r["overhead_pct"] >= 0 for r in dvfs),
                            ", ".join(f"{r['dnn']} {r['overhead_pct']:+.1f}%" for r in dvfs)))
    return table8.report(NAME, TITLE, "energy_cons", rows, claims, out_dir, "edge energy <= E_cons (mJ)", [])
