"""Table 9.2: the CF-minimal two-device plan vs the source alone at the same number of
inferences in the hour (Sec. 9.4)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, markdown_table, published, write_csv
from layerplan.experiments.table9 import cadi_row, intensity_source, mean, write_report

NAME = "table9_2"
TITLE = "Table 9.2: two devices (min CF) vs the source alone at the same number of inferences (U = 1 h)"


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    pub = {p["dnn"]: p for p in published(NAME)}
    rows = []
    for rec in records:
        r = cadi_row(rec)
        if r["solved"]:
            single = r["same_I_single_CF_mg"]
            r["ratio"] = single / r["CF_mg"] if single is not None else None
            r["single_note"] = "" if single is not None else "the source alone cannot run I inferences in U"
        p = pub.get(r["dnn"], {})
        r.update({"I_thesis": p.get("I"), "two_device_thesis": p.get("two_device"),
                  "single_device_thesis": p.get("single_device"), "ratio_thesis": p.get("ratio")})
        rows.append(r)
    rows.sort(key=lambda r: str(r["dnn"]))
    write_csv(out_dir / f"{NAME}.csv", [{k: v for k, v in r.items() if k != "error"} for r in rows])
    ok = [r for r in rows if r["solved"] and r.get("ratio") is not None]
    claims = []
    if ok:
        avg = mean(r["ratio"] for r in ok)
        claims.append(claim("the source alone at the same I emits more than the two-device plan on average "
                            "(thesis: 1.11X)", avg > 1,
                            f"average {avg:.2f}X; " + ", ".join(f"{r['dnn']} {r['ratio']:.2f}X" for r in ok)))
    cols = ["dnn", "grid", "C_src_g_per_kWh", "C_partner_g_per_kWh", "I", "L_trans", "CF_mg", "same_I_single_CF_mg",
            "ratio", "single_note", "I_thesis", "two_device_thesis", "single_device_thesis", "ratio_thesis"]
    times = sorted({str(r["time_utc"]) for r in rows if r.get("time_utc")})
    lines = [f"# {TITLE}", "",
             "CF in mgCO2 per hour. Two devices: minimize CF with the split range l = 1..L-1 (Eq. (9.4)). Single "
             "device: the source runs the same I inferences (best frequency) and waits at idle power for the rest of "
             "the hour (the thesis' manual calculation; `single_device_same_inferences` in each result.json). "
             f"Intensities: {intensity_source(times)} (the thesis: 2024-06-15 20:00 UTC).",
             ""]
    lines += markdown_table(rows, cols)
    write_report(out_dir, lines, rows, lambda r: str(r["dnn"]), claims)
    return {"rows": rows, "claims": claims}
