"""Table 8.4: privacy-constrained FreDDI vs JointDNN-fast/-slow (Sec. 8.4)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments import table8
from layerplan.experiments.records import claim

NAME = "table8_4"
TITLE = "Table 8.4: privacy-constrained variation (first K layers on the Nano-like edge, WiFi)"


def _k(cfg: dict) -> float:
    return float((cfg.get("objective") or {}).get("k"))


def build(records: list[dict], out_dir: Path) -> dict:
    rows = table8.rows_from(records, "privacy", _k)
    claims = table8.common_claims(rows, "privacy")
    fast = [r for r in rows if r["method"] == "JointDNN-fast" and r["solved"] and "overhead_pct" in r]
    if fast:
        claims.append(claim("JointDNN-fast always needs more energy than FreDDI (thesis: +11.9 % to +26.7 %)",
                            all(r["overhead_pct"] > 0 for r in fast),
                            ", ".join(f"{r['dnn']} K={r['constraint']:g} {r['overhead_pct']:+.1f}%" for r in fast)))
    slow = [r for r in rows if r["method"] == "JointDNN-slow" and r["solved"] and "overhead_pct" in r]
    ref = {(r["dnn"], r["constraint"]): r for r in rows if r["method"] == "FreDDI" and r["solved"]}
    if slow:
        claims.append(claim("JointDNN-slow's energy overhead is small (< 2 %) but FreDDI always has the better latency",
                            all(r["overhead_pct"] < 2 and ref[(r["dnn"], r["constraint"])]["latency_ms"] <= r["latency_ms"]
                                for r in slow if (r["dnn"], r["constraint"]) in ref),
                            ", ".join(f"{r['dnn']} K={r['constraint']:g}: {r['overhead_pct']:+.1f}% E, FreDDI "
                                      f"{ref[(r['dnn'], r['constraint'])]['latency_ms']:.1f} vs {r['latency_ms']:.1f} ms"
                                      for r in slow if (r["dnn"], r["constraint"]) in ref)))
    by_k = {}
    for r in rows:
        if r["method"] == "FreDDI" and r["solved"]:
            by_k.setdefault(r["dnn"], []).append((r["constraint"], r["E_mJ"]))
    if by_k:
        claims.append(claim("more privacy (larger K) never lowers FreDDI's edge energy",
                            all(all(b[1] >= a[1] - 1e-9 for a, b in zip(sorted(v), sorted(v)[1:])) for v in by_k.values()),
                            "; ".join(f"{d}: " + ", ".join(f"K={k:g} {e:.1f} mJ" for k, e in sorted(v)) for d, v in by_k.items())))
    return table8.report(NAME, TITLE, "privacy", rows, claims, out_dir, "first K real layers on the edge", [])
