"""Table 8.2: latency-constrained FreDDI vs JointDNN-DVFS/-fast/-slow (Sec. 8.4)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments import table8
from layerplan.experiments.records import claim

NAME = "table8_2"
TITLE = "Table 8.2: latency-constrained variation, Nano-like edge + 2080 Ti-like cloud (WiFi; 4G for ViT)"
INPUT_B = 224 * 224 * 3 * 4  # preprocessed float32 input sent when everything is offloaded


def _cap_ms(cfg: dict) -> float:
    return round(1e3 * float((cfg.get("objective") or {}).get("max_latency_s")), 6)


def _ms(r: dict) -> str:
    return "no soln." if not r["solved"] else f"{r['latency_ms']:.1f} ms at {r['F_MHz']} MHz ({r['split']})"


def upload_ms(records: list[dict]) -> dict[str, tuple[str, float]]:
    """Per DNN: (radio, ms to upload the input to the cloud), the floor of any all-offload plan."""
    from layerplan.io import load_radios

    radios, out = load_radios(), {}
    for rec in records:
        cfg = rec.get("config") or {}
        dnn, radio = (cfg.get("dnn") or {}).get("name"), (cfg.get("network") or {}).get("radio")
        if dnn and radio in radios and dnn not in out:
            out[dnn] = (radio, 1e3 * INPUT_B / radios[radio].up_Bps)
    return out


def build(records: list[dict], out_dir: Path) -> dict:
    rows = table8.rows_from(records, "latency_cons", _cap_ms)
    claims = table8.common_claims(rows, "latency_cons")
    up = upload_ms(records)
    slow = [r for r in rows if r["method"] == "JointDNN-slow" and r["dnn"] in ("alexnet", "vgg11")]
    if slow:
        claims.append(claim(
            "JointDNN-slow has no solution under the AlexNet (100 ms) and VGG11 (160 ms) caps",
            all(not r["solved"] for r in slow),
            "; ".join(f"{r['dnn']}: {_ms(r)}; uploading the input alone takes {up.get(r['dnn'], ('?', float('nan')))[1]:.0f} ms "
                      f"(> cap {r['constraint']:g} ms, so all-offload is out; the question is whether the edge at "
                      "537.6 MHz is fast enough)" for r in slow)))
    dvfs = [r for r in rows if r["method"] == "JointDNN-DVFS" and r["solved"] and "overhead_pct" in r]
    if dvfs:
        claims.append(claim("JointDNN-DVFS (default governor) needs more energy than FreDDI for VGG11 and ViT",
                            all(r["overhead_pct"] > 0 for r in dvfs if r["dnn"] in ("vgg11", "vit_b_16")),
                            ", ".join(f"{r['dnn']} {r['overhead_pct']:+.1f}%" for r in dvfs)))
    notes = ["Input upload (all layers offloaded): " + ", ".join(f"{d} {ms:.0f} ms over {radio}"
                                                                  for d, (radio, ms) in up.items()) + "."]
    return table8.report(NAME, TITLE, "latency_cons", rows, claims, out_dir, "global latency <= T_cons (ms)", notes)
