"""Table 6.2: latency breakdown on C1 at 1e7 B/s without and with preloading (Ch. 6).

Target: every AlexNet/VGG11/VGG16 cell within 0.01 s or 2 % of the published value,
SSD within 5 %.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import (
    claim,
    claims_markdown,
    formulation_label,
    markdown_table,
    published,
    write_csv,
)

NAME = "table6_2"
TITLE = "Table 6.2: inference latency on C1 at 1e7 B/s, without and with preloading"
ORDER = ["alexnet", "vgg11", "ssd300", "vgg16"]
CELLS = {"T_c": "compute", "T_x": "communication", "T_w": "weight", "L": "total"}

#: Cells we do not reproduce, with what we found. Reported, never hidden.
KNOWN_DEVIATIONS = {
    "ssd300/preload/T_w": (
        "the thesis hides about 0.05 s of SSD weights for 0.02 s more T_x; on our SSD300 chain "
        "(docs/layer_tables.md) the exact optimum hides 0.02 s (T_w 0.178 s) and its total, 19.812 s, is "
        "already within 0.2 % of the published 19.78 s. A transfer that cheap would need a different "
        "linearization of SSD's six heads than any we could justify (see docs/layer_tables.md)."
    ),
}


def within(ours: float, theirs: float, dnn: str) -> bool:
    if dnn == "ssd300":
        return abs(ours - theirs) <= 0.05 * abs(theirs)
    return abs(ours - theirs) <= 0.01 + 1e-9 or abs(ours - theirs) <= 0.02 * abs(theirs)


def rows_from(records: list[dict]) -> list[dict]:
    pub = {(r["dnn"], r["formulation"]): r for r in published(NAME)}
    ours = {}
    for rec in records:
        if rec.get("status") not in ("optimal", "feasible"):
            continue
        ours[(rec["dnn"], formulation_label(rec))] = rec
    rows = []
    for dnn in ORDER:
        for form in ("base", "preload"):
            rec, ref = ours.get((dnn, form)), pub.get((dnn, form))
            if rec is None or ref is None:
                continue
            row = {"dnn": dnn, "formulation": form}
            for cell, key in CELLS.items():
                o, t = rec["latency_s"][key], float(ref[cell])
                row[f"{cell}_ours"] = round(o, 4)
                row[f"{cell}_thesis"] = t
                row[f"{cell}_diff"] = round(o - t, 4)
                row[f"{cell}_ok"] = within(o, t, dnn)
            if form == "preload" and (dnn, "base") in ours:
                b = ours[(dnn, "base")]["latency_s"]["total"]
                row["decrease_pct_ours"] = round(100 * (b - rec["latency_s"]["total"]) / b, 2)
                row["decrease_pct_thesis"] = float(ref["decrease_pct"])
            rows.append(row)
    return rows


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = rows_from(records)
    write_csv(out_dir / f"{NAME}.csv", rows)
    cols = ["dnn", "formulation"]
    for cell in CELLS:
        cols += [f"{cell}_ours", f"{cell}_thesis", f"{cell}_diff"]
    cols += ["decrease_pct_ours", "decrease_pct_thesis"]
    misses = [f"{r['dnn']}/{r['formulation']}/{c}" for r in rows for c in CELLS if not r[f"{c}_ok"]]
    dec = {r["dnn"]: r.get("decrease_pct_ours") for r in rows if r["formulation"] == "preload"}
    claims = []
    if dec:
        best = max(dec, key=lambda k: dec[k] or 0)
        claims.append(claim("AlexNet gains the most from preloading", best == "alexnet",
                            ", ".join(f"{k} {v}%" for k, v in dec.items())))
        if "ssd300" in dec:
            claims.append(claim("SSD gains no significant advantage from preloading (compute dominates)",
                                (dec["ssd300"] or 0) < 1.0, f"SSD {dec['ssd300']}%"))
    base_tc = {r["dnn"]: r["T_c_ours"] for r in rows if r["formulation"] == "base"}
    pre_tc = {r["dnn"]: r["T_c_ours"] for r in rows if r["formulation"] == "preload"}
    if base_tc and pre_tc:
        claims.append(claim("preloading leaves T_c unchanged and trades a little T_x for a large T_w reduction",
                            all(abs(base_tc[d] - pre_tc.get(d, base_tc[d])) < 1e-6 for d in base_tc)
                            and all(r["T_x_ours"] >= 0 for r in rows),
                            "T_c equal in both columns for every DNN"))
    lines = [f"# {TITLE}", "",
             "Tolerance: AlexNet/VGG11/VGG16 cells within 0.01 s or 2 %, SSD within 5 %.", "",
             f"{len(rows)} of {2 * len(ORDER)} rows present; "
             f"cells outside the tolerance: {', '.join(misses) if misses else 'none'}", ""]
    lines += markdown_table(rows, cols)
    for miss in misses:
        if miss in KNOWN_DEVIATIONS:
            lines += ["", f"Known deviation {miss}: {KNOWN_DEVIATIONS[miss]}"]
    lines += claims_markdown(claims)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "claims": claims, "misses": misses}
