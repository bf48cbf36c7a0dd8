"""Table 9.1: minimize CF vs minimize E with two edge devices on different grids (Sec. 9.4)."""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.records import claim, markdown_table, published, write_csv
from layerplan.experiments.table9 import cadi_row, intensity_source, mean, write_report

NAME = "table9_1"
TITLE = "Table 9.1: minimize carbon footprint vs minimize energy, two Nano-like devices over 4G (U = 1 h)"


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for rec in records:
        r = cadi_row(rec)
        cfg = rec.get("config") or {}
        r["variant"] = ((cfg.get("table9") or {}).get("variant"))
        rows.append(r)
    rows.sort(key=lambda r: (str(r["dnn"]), str(r["grid"]), str(r["variant"])))
    pub = {(p["dnn"], p["grid"]): p for p in published(NAME)}
    table = []
    for dnn, grid in sorted({(r["dnn"], r["grid"]) for r in rows}):
        by = {r["variant"]: r for r in rows if r["dnn"] == dnn and r["grid"] == grid}
        cf, e, anyr = by.get("cf"), by.get("e"), by.get("cf_any")
        t = {"dnn": dnn, "grid": grid}
        if cf and cf["solved"]:
            t.update({"E_J": cf["E_J"], "EF_J": cf["EF_J"], "CF_mg": cf["CF_mg"], "I": cf["I"], "L_trans": cf["L_trans"],
                      "F_MHz": f"{cf['F_src_MHz']}/{cf['F_partner_MHz']}"})
        if cf and e and cf["solved"] and e["solved"]:
            t.update({"E_n": e["E_J"] / cf["E_J"], "EF_n": e["EF_J"] / cf["EF_J"], "CF_n": e["CF_mg"] / cf["CF_mg"],
                      "I_n": e["I"] / cf["I"], "L_trans_E": e["L_trans"]})
        if anyr and anyr["solved"]:
            t.update({"CF_any_mg": anyr["CF_mg"], "L_trans_any": anyr["L_trans"],
                      "CF_any_n": anyr["CF_mg"] / cf["CF_mg"] if cf and cf["solved"] else None})
        t["C_src"] = (cf or e or {}).get("C_src_g_per_kWh")
        t["C_partner"] = (cf or e or {}).get("C_partner_g_per_kWh")
        p = pub.get((dnn, grid.replace(" -> ", "->")), {})
        for k in ("E", "EF", "CF", "I", "L_trans", "E_n", "EF_n", "CF_n", "I_n"):
            t[f"{k}_thesis"] = p.get(k)
        table.append(t)
    write_csv(out_dir / f"{NAME}.csv", table)
    write_csv(out_dir / f"{NAME}_jobs.csv", [{k: v for k, v in r.items() if k != "error"} for r in rows])
    full = [t for t in table if "CF_n" in t]
    claims = []
    if full:
        claims.append(claim("minimizing E gives a higher carbon footprint than minimizing CF (thesis: 3.28X on average)",
                            all(t["CF_n"] > 1 + 1e-9 for t in full), f"CF_n average {mean(t['CF_n'] for t in full):.2f}X, "
                            + ", ".join(f"{t['dnn']} {t['grid']} {t['CF_n']:.2f}X" for t in full)))
        claims.append(claim("minimizing E keeps every layer on the source (L_trans none)",
                            all(t["L_trans_E"] == "none" for t in full),
                            ", ".join(f"{t['dnn']} {t['grid']}: {t['L_trans_E']}" for t in full)))
        claims.append(claim("minimizing E runs more inferences in the hour (thesis: 18.20X on average)",
                            all(t["I_n"] > 1 for t in full), f"I_n average {mean(t['I_n'] for t in full):.2f}X"))
        claims.append(claim("minimizing E spends less energy per inference (thesis: 0.77X on average)",
                            all(t["E_n"] <= 1 + 1e-9 for t in full), f"E_n average {mean(t['E_n'] for t in full):.2f}X"))
    anys = [t for t in table if "L_trans_any" in t]
    if anys:
        claims.append(claim("the CF-minimal plan moves layers to the partner on the cleaner grid when the source may "
                            "also run alone",
                            all(t["L_trans_any"] != "none" for t in anys),
                            ", ".join(f"{t['dnn']} {t['grid']}: {t['L_trans_any']} "
                                      f"(CF {t['CF_any_mg']:.0f} vs split-only {t.get('CF_mg', float('nan')):.0f} mg)"
                                      for t in anys)))
    cols = ["dnn", "grid", "C_src", "C_partner", "E_J", "EF_J", "CF_mg", "I", "L_trans", "F_MHz", "E_n", "EF_n", "CF_n",
            "I_n", "L_trans_E", "CF_any_mg", "L_trans_any", "E_thesis", "EF_thesis", "CF_thesis", "I_thesis",
            "L_trans_thesis", "CF_n_thesis", "I_n_thesis"]
    times = sorted({str(r["time_utc"]) for r in rows if r.get("time_utc")})
    lines = [f"# {TITLE}", "",
             "Left: minimize CF over U = 1 h with the thesis' split range l = 1..L-1 (Eq. (9.4)); `*_n`: the "
             "energy-minimal plan (any plan, single inference, Sec. 9.3) normalized to it; `*_any`: minimize CF with "
             "single-device plans allowed (not in the thesis). E in J per inference, EF in J per hour, CF in mgCO2 per "
             "hour, C in gCO2/kWh, F = source/partner frequency (MHz). `*_thesis`: the published values.",
             "",
             f"Carbon intensities: {intensity_source(times)} (the thesis used "
             "2024 data at 2024-06-26). Devices: calibrated synthetic Jetson-Nano-like profiles (data/profiles/dvfs), "
             "4G radio power model of Ch. 8 (upload 3.85 W at 5.85 Mbit/s), idle power 1.25 W: absolute values are not "
             "expected to match the thesis.", ""]
    lines += markdown_table(table, cols)
    why = ["", "Why the partner rarely pays here: every split uploads an activation over 4G; at 3.85 W the "
           "upload costs more energy than the Nano-like source spends computing the remaining layers, and "
           "the source stays busy uploading for most of the cycle. The thesis' own E values (e.g. 0.281 J for "
           "AlexNet with a conv4 split) are below the energy of that upload under the Ch. 8 radio model."]
    write_report(out_dir, lines, rows, lambda r: f"{r['dnn']} {r['grid']} {r['variant']}", claims, why)
    return {"rows": table, "claims": claims}
